import { describe, expect, it } from "vitest";
import { policyStatements, resourcesOf, type SynthesizedStack, synthConstruct } from "../testing/synth";
import { GithubPipelineRoles, type GithubPipelineRolesProps } from "./github-oidc";
import { managedPolicyArn, REVIEWED_MANAGED_POLICIES, reviewedAttachment } from "./managed-policies";
import { policyDocument } from "./policy-document";
import { ServiceRole, type ServiceRoleProps } from "./service-role";

const clusterArn = "arn:aws:kafka:eu-west-1:123456789012:cluster/blueprint-dev/abcd-1";
const role: ServiceRoleProps = {
  roleName: "blueprint-dev-order-service",
  trust: { kind: "ecs", accountId: "123456789012", region: "eu-west-1" },
  kafkaClusterArn: clusterArn,
  produces: ["order.processed", "user.created.dlt"],
  consumes: ["user.created"],
  consumerGroups: ["order-service"],
  secretArns: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:blueprint/dev/order-service/database"],
  kmsKeyArns: ["arn:kms"],
};

describe("ServiceRole", () => {
  it("When built, then the service may write and read exactly its topics and join exactly its groups", () => {
    const statements = policyStatements(synthConstruct((s) => new ServiceRole(s, "Role", role)));
    const bySid = Object.fromEntries(statements.filter((s) => s.sid).map((s) => [s.sid, s]));
    expect(bySid.ConnectToCluster).toMatchObject({ resources: [clusterArn] });
    // Topic and group ARNs are the cluster ARN with its resource type swapped, resolved by Terraform.
    const swapped = (kind: string, name: string) =>
      new RegExp(
        `cluster/blueprint-dev/abcd-1", ":cluster/", ":${kind}/"\\)\\}/${name.replace(".", "\\.")}$`,
      );
    const written = bySid.WriteOwnTopics?.resources as string[];
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(swapped("topic", "order.processed"));
    expect(written[1]).toMatch(swapped("topic", "user.created.dlt"));
    expect(bySid.ReadSubscribedTopics?.resources).toHaveLength(1);
    const groups = bySid.JoinOwnGroups?.resources as string[];
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatch(swapped("group", "order-service"));
    expect(bySid.ReadOwnSecrets).toMatchObject({
      actions: ["secretsmanager:GetSecretValue"],
      resources: role.secretArns,
    });
  });

  it("When the trust is IRSA, then only the named service account of the namespace can assume the role", () => {
    const stack = synthConstruct(
      (s) =>
        new ServiceRole(s, "Role", {
          ...role,
          trust: {
            kind: "irsa",
            oidcProviderArn: "arn:oidc",
            oidcIssuer: "oidc.eks/id/X",
            namespace: "blueprint",
            serviceAccount: "order-service",
          },
        }),
    );
    const trust = policyStatements(stack).find((s) =>
      (s.actions as string[]).includes("sts:AssumeRoleWithWebIdentity"),
    );
    expect(trust?.condition).toEqual([
      {
        test: "StringEquals",
        variable: "oidc.eks/id/X:sub",
        values: ["system:serviceaccount:blueprint:order-service"],
      },
      { test: "StringEquals", variable: "oidc.eks/id/X:aud", values: ["sts.amazonaws.com"] },
    ]);
  });

  it.each([
    [
      { consumerGroups: [] },
      "ServiceRole blueprint-dev-order-service: consumerGroups must be set when the service consumes user.created",
    ],
    [
      { kmsKeyArns: [] },
      "ServiceRole blueprint-dev-order-service: kmsKeyArns must name the keys of its secrets",
    ],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => synthConstruct((s) => new ServiceRole(s, "Role", { ...role, ...props }))).toThrow(message);
  });

  it("When a policy asks for a wildcard action, then synthesis fails naming it", () => {
    expect(() =>
      synthConstruct((s) =>
        policyDocument(s, "Bad", [{ effect: "Allow", actions: ["s3:*"], resources: ["arn:aws:s3:::b"] }]),
      ),
    ).toThrow('test/Bad: wildcard action "s3:*" is not allowed; list the actions the statement needs');
  });
});

const pipeline: GithubPipelineRolesProps = {
  environment: "prod",
  namePrefix: "blueprint-prod",
  accountId: "123456789012",
  region: "eu-west-1",
  repository: "acme/blueprint",
  stateBucketArn: "arn:aws:s3:::state",
  lockTableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/locks",
  stateKmsKeyArn: "arn:kms",
};

/** Statements of the one policy document holding a statement with `sid`. */
function documentWith(stack: SynthesizedStack, sid: string): Array<Record<string, unknown>> {
  const documents = Object.values(stack.data.aws_iam_policy_document ?? {}).map(
    (d) => (d.statement ?? []) as Array<Record<string, unknown>>,
  );
  const found = documents.filter((statements) => statements.some((s) => s.sid === sid));
  if (found.length !== 1) throw new Error(`expected one policy document with ${sid}, found ${found.length}`);
  return found[0] as Array<Record<string, unknown>>;
}

describe("GithubPipelineRoles", () => {
  it("When built, then plan runs from pull requests and main, and apply only from the protected environment", () => {
    const stack = synthConstruct((s) => new GithubPipelineRoles(s, "Pipeline", pipeline));
    const roles = Object.values(stack.resource.aws_iam_role ?? {});
    expect(roles.map((r) => r.name)).toEqual(["blueprint-prod-github-apply", "blueprint-prod-github-plan"]);
    const subjects = policyStatements(stack)
      .filter((s) => ((s.actions ?? []) as string[]).includes("sts:AssumeRoleWithWebIdentity"))
      .map(
        (s) =>
          (s.condition as Array<{ variable: string; values: string[] }>).find((c) =>
            c.variable.endsWith(":sub"),
          )?.values,
      );
    expect(subjects).toEqual([
      ["repo:acme/blueprint:environment:prod"],
      ["repo:acme/blueprint:pull_request", "repo:acme/blueprint:ref:refs/heads/main"],
    ]);
    expect(resourcesOf(stack, "aws_iam_openid_connect_provider")).toEqual([
      expect.objectContaining({
        url: "https://token.actions.githubusercontent.com",
        client_id_list: ["sts.amazonaws.com"],
      }),
    ]);
  });

  it("When the apply role manages IAM, then only the environment's own roles are in reach", () => {
    const stack = synthConstruct((s) => new GithubPipelineRoles(s, "Pipeline", pipeline));
    const manage = policyStatements(stack).find((s) => s.sid === "ManageEnvironmentRoles");
    expect(manage?.resources).toEqual(["arn:aws:iam::123456789012:role/blueprint-prod-*"]);
  });

  it("When built, then the plan role holds no secret read, denies them over ReadOnlyAccess and writes only lockfiles", () => {
    const stack = synthConstruct((s) => new GithubPipelineRoles(s, "Pipeline", pipeline));
    const statements = documentWith(stack, "DenySecretValues");
    const allowed = statements.filter((s) => s.effect === "Allow").flatMap((s) => s.actions as string[]);
    expect(allowed.filter((a) => /^secretsmanager:|^ssm:/.test(a))).toEqual([]);
    expect(statements.find((s) => s.sid === "DenySecretValues")).toMatchObject({
      effect: "Deny",
      actions: expect.arrayContaining(["secretsmanager:GetSecretValue", "ssm:GetParameter"]),
      resources: ["*"],
    });
    const writes = statements.filter(
      (s) => s.effect === "Allow" && (s.actions as string[]).some((a) => a === "s3:PutObject"),
    );
    expect(writes.map((s) => s.resources)).toEqual([["arn:aws:s3:::state/prod/*.tflock"]]);
  });

  it("When built, then the apply role carries a boundary that forbids changing the pipeline roles and itself", () => {
    const stack = synthConstruct((s) => new GithubPipelineRoles(s, "Pipeline", pipeline));
    const apply = resourcesOf(stack, "aws_iam_role").find((r) => r.name === "blueprint-prod-github-apply");
    expect(apply?.permissions_boundary).toMatch(/aws_iam_policy\.Pipeline_ApplyBoundary_[0-9A-F]+\.arn/);
    const bySid = Object.fromEntries(documentWith(stack, "DenyChangingPipelineRoles").map((s) => [s.sid, s]));
    expect(bySid.DenyChangingPipelineRoles).toMatchObject({
      effect: "Deny",
      actions: expect.arrayContaining([
        "iam:AttachRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePermissionsBoundary",
      ]),
      resources: [
        "arn:aws:iam::123456789012:role/blueprint-prod-github-apply",
        "arn:aws:iam::123456789012:role/blueprint-prod-github-plan",
      ],
    });
    expect(bySid.DenyChangingBoundaries).toMatchObject({
      effect: "Deny",
      actions: expect.arrayContaining(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]),
      resources: [
        "arn:aws:iam::123456789012:policy/blueprint-prod-github-apply-boundary",
        "arn:aws:iam::123456789012:policy/blueprint-prod-workload-boundary",
      ],
    });
    // A role it creates or changes must carry the workload boundary, which it cannot remove.
    expect(bySid.DenyRolesWithoutWorkloadBoundary).toMatchObject({
      effect: "Deny",
      actions: expect.arrayContaining(["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"]),
      resources: ["*"],
      condition: [
        {
          test: "StringNotEquals",
          variable: "iam:PermissionsBoundary",
          values: ["arn:aws:iam::123456789012:policy/blueprint-prod-workload-boundary"],
        },
      ],
    });
    expect(bySid.DenyRemovingWorkloadBoundary).toMatchObject({
      effect: "Deny",
      actions: ["iam:DeleteRolePermissionsBoundary"],
    });
    expect(bySid.CapPipelineWork?.not_actions).toEqual(
      expect.arrayContaining([
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "sts:AssumeRole",
        "secretsmanager:GetSecretValue",
      ]),
    );
  });

  it("When built, then the workload boundary lets no role it caps create roles, policies, users or keys", () => {
    const stack = synthConstruct((s) => new GithubPipelineRoles(s, "Pipeline", pipeline));
    expect(
      resourcesOf(stack, "aws_iam_policy")
        .map((p) => p.name)
        .sort(),
    ).toEqual(["blueprint-prod-github-apply-boundary", "blueprint-prod-workload-boundary"]);
    const [cap] = documentWith(stack, "CapWorkloads");
    expect(cap).toMatchObject({ effect: "Allow", resources: ["*"] });
    expect(cap?.not_actions).toEqual(
      expect.arrayContaining([
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreatePolicyVersion",
        "iam:CreateUser",
        "iam:CreateAccessKey",
      ]),
    );
  });

  it("When the account already has a GitHub OIDC provider, then none is created and the roles trust the one found", () => {
    const stack = synthConstruct(
      (s) => new GithubPipelineRoles(s, "Pipeline", { ...pipeline, oidcProvider: "existing" }),
    );
    expect(resourcesOf(stack, "aws_iam_openid_connect_provider")).toEqual([]);
    expect(Object.values(stack.data.aws_iam_openid_connect_provider ?? {})).toEqual([
      expect.objectContaining({ url: "https://token.actions.githubusercontent.com" }),
    ]);
    const trusts = policyStatements(stack).filter((s) =>
      ((s.actions ?? []) as string[]).includes("sts:AssumeRoleWithWebIdentity"),
    );
    expect(trusts).toHaveLength(2);
    for (const trust of trusts) {
      expect(JSON.stringify(trust.principals)).toMatch(
        /data\.aws_iam_openid_connect_provider\.Pipeline_ExistingProvider_[0-9A-F]+\.arn/,
      );
    }
  });

  it("When the OIDC provider setting is neither create nor existing, then it fails naming both", () => {
    expect(() =>
      synthConstruct(
        (s) => new GithubPipelineRoles(s, "P", { ...pipeline, oidcProvider: "import" as "create" }),
      ),
    ).toThrow('GithubPipelineRoles: oidcProvider must be "create" or "existing", got "import"');
  });

  it("When the repository is not owner/name, then it fails", () => {
    expect(() =>
      synthConstruct((s) => new GithubPipelineRoles(s, "P", { ...pipeline, repository: "blueprint" })),
    ).toThrow('GithubPipelineRoles: repository must be "owner/name", got "blueprint"');
  });
});

describe("reviewed managed policies", () => {
  it("When a policy is attached to a role it was reviewed for, then its entry is found; on any other role or unlisted, none", () => {
    expect(
      reviewedAttachment("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "blueprint-prod-node")?.name,
    ).toBe("AmazonEKSWorkerNodePolicy");
    expect(
      reviewedAttachment("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "blueprint-prod-user-service"),
    ).toBeUndefined();
    expect(
      reviewedAttachment("arn:aws:iam::aws:policy/AdministratorAccess", "blueprint-prod-github-apply"),
    ).toBeUndefined();
    expect(
      reviewedAttachment("arn:aws:iam::aws:policy/PowerUserAccess", "blueprint-prod-github-plan"),
    ).toBeUndefined();
  });

  it("When the apply boundary is built, then the pipeline may attach exactly the reviewed policies the pipeline owns", () => {
    const stack = synthConstruct((s) => new GithubPipelineRoles(s, "Pipeline", pipeline));
    const deny = documentWith(stack, "DenyUnreviewedManagedPolicies").find(
      (s) => s.sid === "DenyUnreviewedManagedPolicies",
    );
    expect(deny?.condition).toEqual([
      {
        test: "ArnNotEquals",
        variable: "iam:PolicyARN",
        values: REVIEWED_MANAGED_POLICIES.filter((p) => p.attachedBy === "pipeline").map(managedPolicyArn),
      },
    ]);
    const attachable = ((deny?.condition ?? []) as Array<{ values: string[] }>)[0]?.values ?? [];
    expect(attachable).toContain("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy");
    expect(attachable).not.toContain("arn:aws:iam::aws:policy/PowerUserAccess");
  });
});
