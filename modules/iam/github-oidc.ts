import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { type PolicyStatement, policyDocument } from "./policy-document";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** What a GitHub Actions role is for: plan (read-only), apply (changes), deploy (service releases). */
export type GithubRoleKind = "plan" | "apply" | "deploy";

/** Name of an environment's GitHub Actions role, e.g. `blueprint-prod-github-apply`. */
export function githubRoleName(namePrefix: string, kind: GithubRoleKind): string {
  return `${namePrefix}-github-${kind}`;
}

/** ARN of the account's GitHub Actions OIDC provider (created once, by the bootstrap stack). */
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

export interface GithubPipelineRolesProps {
  /** Environment name: the GitHub environment that may apply, and the state key prefix. */
  readonly environment: string;
  /** Prefix of the role names (`<prefix>-github-plan`, `-apply`), e.g. `blueprint-prod`. */
  readonly namePrefix: string;
  /** Prefix of the environment's Secrets Manager names, e.g. `blueprint/prod`; plans read them. */
  readonly secretPrefix: string;
  readonly accountId: string;
  readonly region: string;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  readonly repository: string;
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly stateKmsKeyArn: string;
}

/**
 * The account's GitHub Actions OIDC provider and the two pipeline roles: `plan` (read-only plus state,
 * for pull requests and the drift schedule on main) and `apply` (changes, only from the GitHub
 * environment named after this environment, where reviewers approve).
 */
export class GithubPipelineRoles extends Construct {
  readonly provider: IamOpenidConnectProvider;
  readonly planRole: IamRole;
  readonly applyRole: IamRole;

  constructor(scope: Construct, id: string, props: GithubPipelineRolesProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(props.repository)) {
      throw new Error(`GithubPipelineRoles: repository must be "owner/name", got "${props.repository}"`);
    }
    this.provider = new IamOpenidConnectProvider(this, "Provider", {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIdList: ["sts.amazonaws.com"],
    });
    const stateAccess: PolicyStatement[] = [
      { sid: "ListState", effect: "Allow", actions: ["s3:ListBucket"], resources: [props.stateBucketArn] },
      {
        sid: "ReadWriteStateAndLockfiles",
        effect: "Allow",
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [`${props.stateBucketArn}/${props.environment}/*`],
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
    ];

    this.planRole = new IamRole(this, "PlanRole", {
      name: githubRoleName(props.namePrefix, "plan"),
      description: "GitHub Actions: terraform plan in pull requests and drift detection",
      maxSessionDuration: 3600,
      assumeRolePolicy: policyDocument(this, "PlanTrust", [
        githubTrust(props.accountId, props.repository, ["pull_request", "ref:refs/heads/main"]),
      ]).json,
    });
    new IamRolePolicyAttachment(this, "PlanReadOnly", {
      role: this.planRole.name,
      policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
    new IamRolePolicy(this, "PlanPolicy", {
      role: this.planRole.name,
      name: "state-and-secrets-read",
      policy: policyDocument(this, "PlanPolicyDocument", [
        ...stateAccess,
        {
          // The drift job publishes terraform_drift_resources to the environment's managed Prometheus.
          sid: "PublishDriftMetrics",
          effect: "Allow",
          actions: ["aps:RemoteWrite"],
          resources: [`arn:aws:aps:${props.region}:${props.accountId}:workspace/*`],
        },
        {
          sid: "ReadEnvironmentSecretsForDataSources",
          effect: "Allow",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [
            `arn:aws:secretsmanager:${props.region}:${props.accountId}:secret:${props.secretPrefix}/*`,
          ],
        },
      ]).json,
    });

    this.applyRole = new IamRole(this, "ApplyRole", {
      name: githubRoleName(props.namePrefix, "apply"),
      description: "GitHub Actions: terraform apply after review, from the protected environment only",
      maxSessionDuration: 7200,
      assumeRolePolicy: policyDocument(this, "ApplyTrust", [
        githubTrust(props.accountId, props.repository, [`environment:${props.environment}`]),
      ]).json,
    });
    // PowerUserAccess covers every service the stacks manage except IAM, which is granted below
    // only on the blueprint's own roles, policies and OIDC providers.
    new IamRolePolicyAttachment(this, "ApplyPowerUser", {
      role: this.applyRole.name,
      policyArn: "arn:aws:iam::aws:policy/PowerUserAccess",
    });
    new IamRolePolicy(this, "ApplyPolicy", {
      role: this.applyRole.name,
      name: "state-and-blueprint-iam",
      policy: policyDocument(this, "ApplyPolicyDocument", [
        ...stateAccess,
        {
          sid: "ManageBlueprintRoles",
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
          resources: [`arn:aws:iam::${props.accountId}:role/blueprint-*`],
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
      ]).json,
    });
  }
}
