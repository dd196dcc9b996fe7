import { DataAwsIamOpenidConnectProvider } from "@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { AWS_MANAGED_POLICY_PREFIX, managedPolicyArn, REVIEWED_MANAGED_POLICIES } from "./managed-policies";
import { type PolicyStatement, policyDocument } from "./policy-document";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** What a GitHub Actions role is for: plan (read-only), apply (changes), deploy (service releases). */
export type GithubRoleKind = "plan" | "apply" | "deploy";

/** Name of an environment's GitHub Actions role, e.g. `blueprint-prod-github-apply`. */
export function githubRoleName(namePrefix: string, kind: GithubRoleKind): string {
  return `${namePrefix}-github-${kind}`;
}

/** ARN of the account's GitHub Actions OIDC provider (one per account, whoever created it). */
export function githubOidcProviderArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

/** Trust for GitHub Actions runs of `repository` whose OIDC subject is one of `subjects`. */
export function githubTrust(
  accountId: string,
  repository: string,
  subjects: readonly string[],
): PolicyStatement {
  return {
    effect: "Allow",
    actions: ["sts:AssumeRoleWithWebIdentity"],
    principals: [{ type: "Federated", identifiers: [githubOidcProviderArn(accountId)] }],
    condition: [
      { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:aud`, values: ["sts.amazonaws.com"] },
      {
        test: "StringEquals",
        variable: `${GITHUB_OIDC_HOST}:sub`,
        values: subjects.map((s) => `repo:${repository}:${s}`),
      },
    ],
  };
}

/** The account's GitHub Actions OIDC provider: created by this environment, or one that already exists. */
export type GithubOidcProviderSetting = "create" | "existing";

export interface GithubPipelineRolesProps {
  /** Environment name: the GitHub environment that may apply, and the state key prefix. */
  readonly environment: string;
  /** Prefix of the role names (`<prefix>-github-plan`, `-apply`), e.g. `blueprint-prod`. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly region: string;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  readonly repository: string;
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly stateKmsKeyArn: string;
  /**
   * `create`: this stack creates the account's GitHub OIDC provider. `existing`: the account has one
   * already (IAM allows one per URL), which the roles trust after looking it up.
   * @default "create"
   */
  readonly oidcProvider?: GithubOidcProviderSetting;
}

/**
 * Reads that return secret values: no pipeline role that runs from a pull request may hold them.
 * DescribeUserPoolClient returns a Cognito app client's secret.
 */
export const SECRET_READ_ACTIONS = [
  "secretsmanager:GetSecretValue",
  "secretsmanager:BatchGetSecretValue",
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "ssm:GetParameterHistory",
  "cognito-idp:DescribeUserPoolClient",
] as const;

/**
 * Reads of what the services and the database logged: a plan never needs them, and logs may hold
 * what they should not (a PostgreSQL log quotes the statement that failed, with its values).
 */
const LOG_READ_ACTIONS = [
  "logs:FilterLogEvents",
  "logs:GetLogEvents",
  "logs:GetLogObject",
  "logs:GetLogRecord",
  "logs:GetQueryResults",
  "logs:StartLiveTail",
  "logs:StartQuery",
  "rds:DownloadCompleteDBLogFile",
  "rds:DownloadDBLogFilePortion",
] as const;

/** Every change to a role: the apply boundary forbids them on the pipeline roles. */
export const ROLE_WRITE_ACTIONS = [
  "iam:AttachRolePolicy",
  "iam:DeleteRole",
  "iam:DeleteRolePermissionsBoundary",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PassRole",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
] as const;

/** Changes to a managed policy's document: the apply boundary forbids them on itself. */
const POLICY_WRITE_ACTIONS = [
  "iam:CreatePolicyVersion",
  "iam:DeletePolicy",
  "iam:DeletePolicyVersion",
  "iam:SetDefaultPolicyVersion",
  "iam:TagPolicy",
  "iam:UntagPolicy",
] as const;

/**
 * The Managed Grafana calls of `.github/scripts/publish-dashboards.sh`, which the apply job runs
 * after applying `<env>-observability`: find the `blueprint-deploy` service account, mint it a
 * 10-minute token, delete the token (decision 0038).
 */
export const GRAFANA_PUBLISH_ACTIONS = [
  "grafana:ListWorkspaceServiceAccounts",
  "grafana:CreateWorkspaceServiceAccountToken",
  "grafana:DeleteWorkspaceServiceAccountToken",
] as const;

/**
 * What the apply pipeline never does, whatever its policies grant: create IAM users, groups or
 * keys or Grafana API keys (long-lived credentials), read secret values (Terraform passes secret
 * ARNs, never values), assume other roles (a role it created would be a way around this boundary).
 */
const NEVER_FOR_APPLY = [
  "grafana:CreateWorkspaceApiKey",
  "iam:AddUserToGroup",
  "iam:AttachGroupPolicy",
  "iam:AttachUserPolicy",
  "iam:CreateAccessKey",
  "iam:CreateGroup",
  "iam:CreateLoginProfile",
  "iam:CreateUser",
  "iam:PutGroupPolicy",
  "iam:PutUserPolicy",
  "iam:UpdateAccessKey",
  "iam:UpdateLoginProfile",
  "sts:AssumeRole",
  ...SECRET_READ_ACTIONS,
] as const;

/** Name of the apply role's permissions boundary, e.g. `blueprint-prod-github-apply-boundary`. */
export function applyBoundaryName(namePrefix: string): string {
  return `${githubRoleName(namePrefix, "apply")}-boundary`;
}

/** Name of the boundary every role the apply pipeline creates must carry, e.g. `blueprint-prod-workload-boundary`. */
export function workloadBoundaryName(namePrefix: string): string {
  return `${namePrefix}-workload-boundary`;
}

/** ARN of the workload boundary; the bootstrap stack creates it, every other stack's roles carry it. */
export function workloadBoundaryArn(accountId: string, namePrefix: string): string {
  return `arn:aws:iam::${accountId}:policy/${workloadBoundaryName(namePrefix)}`;
}

/**
 * IAM changes no role the pipeline creates ever makes: creating identities, keys, roles or policies.
 * Without this boundary the apply role could write an administrator policy on a role it creates and
 * run compute with it.
 */
const NEVER_FOR_WORKLOADS = [
  "iam:AddUserToGroup",
  "iam:AttachGroupPolicy",
  "iam:AttachRolePolicy",
  "iam:AttachUserPolicy",
  "iam:CreateAccessKey",
  "iam:CreateGroup",
  "iam:CreateLoginProfile",
  "iam:CreatePolicy",
  "iam:CreatePolicyVersion",
  "iam:CreateRole",
  "iam:CreateUser",
  "iam:DeleteRolePermissionsBoundary",
  "iam:PutGroupPolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:PutUserPolicy",
  "iam:SetDefaultPolicyVersion",
  "iam:UpdateAccessKey",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateLoginProfile",
] as const;

/**
 * The account's GitHub Actions OIDC provider and the two pipeline roles.
 * - `plan`: pull requests and main (drift). Reads state and writes only the lock; AWS's ReadOnlyAccess
 *   with an explicit deny of secret values, parameters, decryption with any key but the state key and
 *   object reads outside its state, so a pull request's plan of any environment reads no secret.
 * - `apply`: only from the GitHub environment named after this environment (its reviewers approve).
 *   PowerUserAccess plus the IAM it needs on the environment's own roles, under a permissions boundary
 *   it can neither change nor remove, which also protects both pipeline roles from it.
 * - the workload boundary: every role the apply role creates or changes must carry it (no IAM changes),
 *   so a new role is never a way around the apply role's own boundary.
 */
export class GithubPipelineRoles extends Construct {
  /** The provider, when this stack creates it. */
  readonly provider?: IamOpenidConnectProvider;
  readonly planRole: IamRole;
  readonly applyRole: IamRole;
  readonly applyBoundary: IamPolicy;
  /** The boundary of every role the apply pipeline creates (see NEVER_FOR_WORKLOADS). */
  readonly workloadBoundary: IamPolicy;
  private readonly props: GithubPipelineRolesProps;
  private readonly providerArn: string;

  constructor(scope: Construct, id: string, props: GithubPipelineRolesProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(props.repository)) {
      throw new Error(`GithubPipelineRoles: repository must be "owner/name", got "${props.repository}"`);
    }
    this.props = props;
    const oidcProvider = props.oidcProvider ?? "create";
    if (oidcProvider === "create") {
      this.provider = new IamOpenidConnectProvider(this, "Provider", {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIdList: ["sts.amazonaws.com"],
      });
      this.providerArn = this.provider.arn;
    } else if (oidcProvider === "existing") {
      // Fails the plan with "no matching provider" when the account has none: set "create" then.
      this.providerArn = new DataAwsIamOpenidConnectProvider(this, "ExistingProvider", {
        url: `https://${GITHUB_OIDC_HOST}`,
      }).arn;
    } else {
      throw new Error(
        `GithubPipelineRoles: oidcProvider must be "create" or "existing", got "${String(oidcProvider)}"`,
      );
    }
    this.planRole = this.createPlanRole();
    this.workloadBoundary = new IamPolicy(this, "WorkloadBoundary", {
      name: workloadBoundaryName(props.namePrefix),
      description: "Caps every role the apply pipeline creates: no IAM identities, keys, roles or policies",
      policy: policyDocument(this, "WorkloadBoundaryDocument", [
        { sid: "CapWorkloads", effect: "Allow", notActions: [...NEVER_FOR_WORKLOADS], resources: ["*"] },
        {
          // Roles of this environment carry this boundary; passing or assuming any other role (an
          // account administrator's) would be a way around it and the apply role's own.
          sid: "DenyRolesOutsideEnvironment",
          effect: "Deny",
          actions: ["iam:PassRole", "sts:AssumeRole"],
          notResources: [this.arnOf("role", `${props.namePrefix}-*`)],
        },
      ]).json,
    });
    this.applyBoundary = this.createApplyBoundary();
    this.applyRole = this.createApplyRole();
  }

  private arnOf(kind: "role" | "policy", name: string): string {
    return `arn:aws:iam::${this.props.accountId}:${kind}/${name}`;
  }

  private trust(id: string, subjects: readonly string[]) {
    const trust = githubTrust(this.props.accountId, this.props.repository, subjects);
    return policyDocument(this, id, [
      { ...trust, principals: [{ type: "Federated", identifiers: [this.providerArn] }] },
    ]).json;
  }

  /** Objects of this environment's state, under `<environment>/` in the bucket. */
  private get stateObjects(): string {
    return `${this.props.stateBucketArn}/${this.props.environment}/*`;
  }

  private createPlanRole(): IamRole {
    const { props } = this;
    const lockfiles = `${props.stateBucketArn}/${props.environment}/*.tflock`;
    const role = new IamRole(this, "PlanRole", {
      name: githubRoleName(props.namePrefix, "plan"),
      description: "GitHub Actions: terraform plan in pull requests and drift detection; no secret values",
      maxSessionDuration: 3600,
      assumeRolePolicy: this.trust("PlanTrust", ["pull_request", "ref:refs/heads/main"]),
    });
    new IamRolePolicyAttachment(this, "PlanReadOnly", {
      role: role.name,
      policyArn: `${AWS_MANAGED_POLICY_PREFIX}ReadOnlyAccess`,
    });
    new IamRolePolicy(this, "PlanPolicy", {
      role: role.name,
      name: "state-read-lock-write-no-secrets",
      policy: policyDocument(this, "PlanPolicyDocument", [
        { sid: "ListState", effect: "Allow", actions: ["s3:ListBucket"], resources: [props.stateBucketArn] },
        { sid: "ReadState", effect: "Allow", actions: ["s3:GetObject"], resources: [this.stateObjects] },
        {
          // Terraform's S3 lockfile sits next to the state as `<key>.tflock`.
          sid: "WriteLockfilesOnly",
          effect: "Allow",
          actions: ["s3:PutObject", "s3:DeleteObject"],
          resources: [lockfiles],
        },
        {
          sid: "ReadLockTable",
          effect: "Allow",
          actions: ["dynamodb:DescribeTable", "dynamodb:GetItem"],
          resources: [props.lockTableArn],
        },
        {
          // The table also holds each state's digest (`<bucket>/<key>-md5`); only a state write changes it.
          sid: "WriteLocksNotDigests",
          effect: "Allow",
          actions: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
          resources: [props.lockTableArn],
          condition: [
            { test: "ForAllValues:StringNotLike", variable: "dynamodb:LeadingKeys", values: ["*-md5"] },
          ],
        },
        {
          // Decrypt reads the state; GenerateDataKey encrypts the lockfile under the bucket's key.
          sid: "StateKey",
          effect: "Allow",
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: [props.stateKmsKeyArn],
        },
        {
          // The drift job publishes terraform_drift_resources to the environment's managed Prometheus.
          sid: "PublishDriftMetrics",
          effect: "Allow",
          actions: ["aps:RemoteWrite"],
          resources: [`arn:aws:aps:${props.region}:${props.accountId}:workspace/*`],
        },
        // ReadOnlyAccess is AWS's document; these denies win over anything it grants.
        { sid: "DenySecretValues", effect: "Deny", actions: [...SECRET_READ_ACTIONS], resources: ["*"] },
        { sid: "DenyLogReads", effect: "Deny", actions: [...LOG_READ_ACTIONS], resources: ["*"] },
        {
          sid: "DenyDecryptButState",
          effect: "Deny",
          actions: ["kms:Decrypt"],
          notResources: [props.stateKmsKeyArn],
        },
        {
          sid: "DenyObjectWritesButLockfiles",
          effect: "Deny",
          actions: ["s3:PutObject", "s3:DeleteObject"],
          notResources: [lockfiles],
        },
        {
          sid: "DenyObjectReadsButState",
          effect: "Deny",
          actions: ["s3:GetObject", "s3:GetObjectVersion"],
          notResources: [this.stateObjects],
        },
      ]).json,
    });
    return role;
  }

  /**
   * The apply role's permissions boundary. Its own ARN and the pipeline roles' ARNs are spelled out
   * (not references) so the boundary protects them before they exist.
   */
  private createApplyBoundary(): IamPolicy {
    const { props } = this;
    const name = applyBoundaryName(props.namePrefix);
    const workloadArn = workloadBoundaryArn(props.accountId, props.namePrefix);
    const pipelineAttachable = REVIEWED_MANAGED_POLICIES.filter((p) => p.attachedBy === "pipeline").map(
      managedPolicyArn,
    );
    return new IamPolicy(this, "ApplyBoundary", {
      name,
      description: "Caps the GitHub apply role; the role can neither change nor remove it",
      policy: policyDocument(this, "ApplyBoundaryDocument", [
        { sid: "CapPipelineWork", effect: "Allow", notActions: [...NEVER_FOR_APPLY], resources: ["*"] },
        {
          sid: "DenyChangingPipelineRoles",
          effect: "Deny",
          actions: [...ROLE_WRITE_ACTIONS],
          resources: [
            this.arnOf("role", githubRoleName(props.namePrefix, "apply")),
            this.arnOf("role", githubRoleName(props.namePrefix, "plan")),
          ],
        },
        {
          sid: "DenyChangingBoundaries",
          effect: "Deny",
          actions: [...POLICY_WRITE_ACTIONS],
          resources: [this.arnOf("policy", name), workloadArn],
        },
        {
          // Roles the pipeline creates or changes carry the workload boundary, so none can do more
          // than the pipeline itself (the classic way around a boundary: a new role without one).
          sid: "DenyRolesWithoutWorkloadBoundary",
          effect: "Deny",
          actions: [
            "iam:AttachRolePolicy",
            "iam:CreateRole",
            "iam:DetachRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:PutRolePolicy",
          ],
          resources: ["*"],
          condition: [
            { test: "StringNotEquals", variable: "iam:PermissionsBoundary", values: [workloadArn] },
          ],
        },
        {
          sid: "DenyRemovingWorkloadBoundary",
          effect: "Deny",
          actions: ["iam:DeleteRolePermissionsBoundary"],
          resources: ["*"],
        },
        {
          sid: "DenyUnreviewedManagedPolicies",
          effect: "Deny",
          actions: ["iam:AttachRolePolicy"],
          resources: ["*"],
          condition: [{ test: "ArnNotEquals", variable: "iam:PolicyARN", values: pipelineAttachable }],
        },
      ]).json,
    });
  }

  private createApplyRole(): IamRole {
    const { props } = this;
    const role = new IamRole(this, "ApplyRole", {
      name: githubRoleName(props.namePrefix, "apply"),
      description: "GitHub Actions: terraform apply after review, from the protected environment only",
      maxSessionDuration: 7200,
      permissionsBoundary: this.applyBoundary.arn,
      assumeRolePolicy: this.trust("ApplyTrust", [`environment:${props.environment}`]),
    });
    // PowerUserAccess covers every service the stacks manage except IAM, which is granted below only
    // on the environment's own roles; the boundary caps both (see REVIEWED_MANAGED_POLICIES).
    new IamRolePolicyAttachment(this, "ApplyPowerUser", {
      role: role.name,
      policyArn: `${AWS_MANAGED_POLICY_PREFIX}PowerUserAccess`,
    });
    new IamRolePolicy(this, "ApplyPolicy", {
      role: role.name,
      name: "state-and-environment-iam",
      policy: policyDocument(this, "ApplyPolicyDocument", [
        { sid: "ListState", effect: "Allow", actions: ["s3:ListBucket"], resources: [props.stateBucketArn] },
        {
          sid: "ReadWriteStateAndLockfiles",
          effect: "Allow",
          actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          resources: [this.stateObjects],
        },
        {
          sid: "Lock",
          effect: "Allow",
          actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
          resources: [props.lockTableArn],
        },
        {
          sid: "StateKey",
          effect: "Allow",
          actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
          resources: [props.stateKmsKeyArn],
        },
        {
          sid: "ManageEnvironmentRoles",
          effect: "Allow",
          actions: [
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:ListInstanceProfilesForRole",
            "iam:PassRole",
          ],
          resources: [this.arnOf("role", `${props.namePrefix}-*`)],
        },
        {
          sid: "ManageClusterOidcProviders",
          effect: "Allow",
          actions: [
            "iam:CreateOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            "iam:GetOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint",
          ],
          resources: [
            `arn:aws:iam::${props.accountId}:oidc-provider/oidc.eks.${props.region}.amazonaws.com/*`,
          ],
        },
        {
          sid: "ServiceLinkedRoles",
          effect: "Allow",
          actions: ["iam:CreateServiceLinkedRole"],
          resources: [`arn:aws:iam::${props.accountId}:role/aws-service-role/*`],
        },
        {
          // Documents what the publish step calls and keeps it working if scoped policies replace
          // PowerUserAccess (decision 0029); it restricts nothing, as PowerUserAccess already allows
          // every grafana: action but the boundary's CreateWorkspaceApiKey. No IAM condition caps a
          // token's lifetime: the script asks for 600 s and deletes the token. The workspace id is
          // generated when the observability stack applies, after this role exists.
          sid: "PublishDashboards",
          effect: "Allow",
          actions: [...GRAFANA_PUBLISH_ACTIONS],
          resources: [`arn:aws:grafana:${props.region}:${props.accountId}:/workspaces/*`],
        },
      ]).json,
    });
    return role;
  }
}
