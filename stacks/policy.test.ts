import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, type EnvironmentConfig } from "../environments";
import { reviewedAttachment } from "../modules/iam/managed-policies";
import { type AnalysedRole, analyseRoles, roleMay, trustsGithubSubject } from "../modules/testing/iam";
import type { SynthesizedStack } from "../modules/testing/synth";
import { synthAll } from "./synth-all";

// The security profile of every environment, proven on the synthesized Terraform JSON.
const stacks = synthAll(ENVIRONMENTS);

type Resource = Record<string, unknown> & { __type: string; __id: string; __stack: string };

function stacksOf(env: EnvironmentConfig): Array<[string, SynthesizedStack]> {
  return [...stacks].filter(([id]) => id.startsWith(`${env.name}-`));
}

function resources(env: EnvironmentConfig, type: string): Resource[] {
  return stacksOf(env).flatMap(([stackId, stack]) =>
    Object.entries(stack.resource[type] ?? {}).map(([id, body]) => ({
      ...body,
      __type: type,
      __id: id,
      __stack: stackId,
    })),
  );
}

/** Every IAM statement in the environment: policy document data sources and inline JSON policies. */
function iamStatements(env: EnvironmentConfig): Array<{ actions: string[]; where: string }> {
  const out: Array<{ actions: string[]; where: string }> = [];
  for (const [stackId, stack] of stacksOf(env)) {
    for (const [id, doc] of Object.entries(stack.data.aws_iam_policy_document ?? {})) {
      for (const s of (doc.statement as Array<{ actions?: string[]; not_actions?: string[] }>) ?? []) {
        out.push({ actions: [...(s.actions ?? []), ...(s.not_actions ?? [])], where: `${stackId}/${id}` });
      }
    }
    for (const [type, byId] of Object.entries(stack.resource)) {
      for (const [id, body] of Object.entries(byId)) {
        for (const field of ["policy", "assume_role_policy"]) {
          const value = body[field];
          if (typeof value !== "string" || !value.trim().startsWith("{")) continue;
          // Other JSON attributes (ECR lifecycle rules, ...) are not IAM documents.
          const document = JSON.parse(value) as { Statement?: Array<{ Action?: string | string[] }> };
          for (const s of document.Statement ?? []) {
            out.push({ actions: ([] as string[]).concat(s.Action ?? []), where: `${stackId}/${type}.${id}` });
          }
        }
      }
    }
  }
  return out;
}

/** Actions that return secret values; no role a pull request can assume may perform them. */
const SECRET_READS = [
  "secretsmanager:GetSecretValue",
  "secretsmanager:BatchGetSecretValue",
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "cognito-idp:DescribeUserPoolClient",
] as const;

/** Actions by which a role would give itself more: attach or write a policy, change its trust or boundary. */
const SELF_GRANTS = [
  "iam:AttachRolePolicy",
  "iam:PutRolePolicy",
  "iam:UpdateAssumeRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:DeleteRolePermissionsBoundary",
] as const;

/** Where the environment's secrets and parameters live, as resources the checks ask about. */
function secretResources(env: EnvironmentConfig): string[] {
  return [
    `arn:aws:secretsmanager:${env.region}:${env.accountId}:secret:blueprint/${env.name}/user-service/database-AbCdEf`,
    `arn:aws:ssm:${env.region}:${env.accountId}:parameter/blueprint/${env.name}/any`,
    `arn:aws:cognito-idp:${env.region}:${env.accountId}:userpool/${env.region}_Example`,
  ];
}

/** Every role of the environment with its policies resolved. */
function rolesOf(env: EnvironmentConfig): AnalysedRole[] {
  return analyseRoles(stacksOf(env), env.accountId);
}

/** The roles GitHub Actions runs of a pull request can assume. */
function pullRequestRoles(env: EnvironmentConfig): AnalysedRole[] {
  return rolesOf(env).filter((r) => trustsGithubSubject(r, `repo:${env.githubRepository}:pull_request`));
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("security profile of %s", (_name, env) => {
  it("encrypts every data store, log group, secret, repository and state at rest", () => {
    for (const db of resources(env, "aws_db_instance")) {
      expect(db, db.__id).toMatchObject({ storage_encrypted: true, performance_insights_enabled: true });
      expect(db.kms_key_id, db.__id).toBeTruthy();
    }
    for (const cluster of resources(env, "aws_msk_cluster")) {
      const info = cluster.encryption_info as { encryption_at_rest_kms_key_arn?: string };
      expect(info.encryption_at_rest_kms_key_arn, cluster.__id).toBeTruthy();
    }
    for (const group of resources(env, "aws_cloudwatch_log_group")) {
      expect(group.kms_key_id, `${group.__stack}/${group.__id}`).toBeTruthy();
    }
    for (const secret of resources(env, "aws_secretsmanager_secret"))
      expect(secret.kms_key_id, secret.__id).toBeTruthy();
    for (const repo of resources(env, "aws_ecr_repository")) {
      expect(repo.encryption_configuration, repo.__id).toEqual([
        expect.objectContaining({ encryption_type: "KMS" }),
      ]);
    }
    for (const table of resources(env, "aws_dynamodb_table")) {
      expect(table.server_side_encryption, table.__id).toMatchObject({ enabled: true });
    }
    const buckets = resources(env, "aws_s3_bucket");
    const encrypted = resources(env, "aws_s3_bucket_server_side_encryption_configuration");
    expect(encrypted).toHaveLength(buckets.length);
    for (const key of resources(env, "aws_kms_key")) expect(key.enable_key_rotation, key.__id).toBe(true);
  });

  it("exposes nothing to the internet but the load balancer", () => {
    for (const db of resources(env, "aws_db_instance")) expect(db.publicly_accessible).toBe(false);
    for (const cluster of resources(env, "aws_msk_cluster")) {
      expect(cluster.broker_node_group_info).toMatchObject({
        connectivity_info: { public_access: { type: "DISABLED" } },
      });
    }
    for (const subnet of resources(env, "aws_subnet"))
      expect(subnet.map_public_ip_on_launch ?? false).toBe(false);
    const openIngress = resources(env, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.cidr_ipv4 === "0.0.0.0/0",
    );
    expect(openIngress.map((r) => r.__id.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual([
      "SecurityGroups_LoadBalancerIn443",
      "SecurityGroups_LoadBalancerIn80",
    ]);
    expect(resources(env, "aws_security_group").every((g) => g.ingress === undefined)).toBe(true);
    const lbs = resources(env, "aws_lb");
    expect(lbs.filter((lb) => lb.internal === false)).toHaveLength(1);
    for (const bucket of resources(env, "aws_s3_bucket")) {
      const block = resources(env, "aws_s3_bucket_public_access_block").find((b) =>
        String(b.bucket).includes(bucket.__id),
      );
      expect(block, bucket.__id).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
    }
    for (const cluster of resources(env, "aws_eks_cluster")) {
      const vpc = cluster.vpc_config as { endpoint_public_access?: boolean; public_access_cidrs?: string[] };
      if (vpc.endpoint_public_access) expect(vpc.public_access_cidrs).not.toContain("0.0.0.0/0");
    }
  });

  it("serves HTTPS only, with a TLS 1.3 policy, and redirects HTTP", () => {
    const listeners = resources(env, "aws_lb_listener");
    expect(listeners.find((l) => l.port === 443)).toMatchObject({
      protocol: "HTTPS",
      ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    });
    expect(listeners.find((l) => l.port === 80)?.default_action).toEqual([
      expect.objectContaining({
        type: "redirect",
        redirect: expect.objectContaining({ protocol: "HTTPS", port: "443" }),
      }),
    ]);
    expect(resources(env, "aws_lb")[0]).toMatchObject({ drop_invalid_header_fields: true });
  });

  it("lets Kafka clients in over TLS with IAM only", () => {
    const [cluster] = resources(env, "aws_msk_cluster");
    expect(cluster?.client_authentication).toEqual({ sasl: { iam: true }, unauthenticated: false });
    expect(cluster?.encryption_info).toMatchObject({
      encryption_in_transit: { client_broker: "TLS", in_cluster: true },
    });
    const [config] = resources(env, "aws_msk_configuration");
    expect(config?.server_properties).toContain("auto.create.topics.enable=false");
    const ingress = resources(env, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.__stack === `${env.name}-messaging`,
    );
    // The services and the topic provisioner, each by security group, on the IAM listener only.
    expect(ingress).toHaveLength(2);
    for (const rule of ingress) {
      expect(rule, rule.__id).toMatchObject({ from_port: 9098, to_port: 9098 });
      expect(rule.referenced_security_group_id, rule.__id).toBeTruthy();
      expect(rule.cidr_ipv4, rule.__id).toBeUndefined();
    }
  });

  it("keeps PostgreSQL 16 private, encrypted, TLS-only, with its password managed by RDS", () => {
    const [db] = resources(env, "aws_db_instance");
    expect(db).toMatchObject({
      engine: "postgres",
      engine_version: "16",
      manage_master_user_password: true,
      iam_database_authentication_enabled: true,
      publicly_accessible: false,
    });
    expect(db?.password).toBeUndefined();
    const [params] = resources(env, "aws_db_parameter_group");
    expect(params?.parameter).toEqual(expect.arrayContaining([{ name: "rds.force_ssl", value: "1" }]));
    const ingress = resources(env, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.__stack === `${env.name}-data`,
    );
    expect(ingress.map((r) => [r.from_port, r.cidr_ipv4 ?? "security group"])).toEqual([
      [5432, "security group"],
    ]);
    expect(String(resources(env, "aws_db_subnet_group")[0]?.description)).toContain("Isolated");
  });

  it("applies its profile's guards to the database and load balancer", () => {
    const [db] = resources(env, "aws_db_instance");
    expect(db).toMatchObject({
      multi_az: env.database.multiAz,
      deletion_protection: env.database.deletionProtection,
      backup_retention_period: env.database.backupRetentionDays,
      skip_final_snapshot: !env.database.finalSnapshot,
    });
    if (env.profile === "production") {
      expect(db).toMatchObject({ multi_az: true, deletion_protection: true, skip_final_snapshot: false });
      expect(db?.backup_retention_period as number).toBeGreaterThanOrEqual(7);
      expect(resources(env, "aws_lb")[0]).toMatchObject({ enable_deletion_protection: true });
      expect(resources(env, "aws_wafv2_web_acl_association")).toHaveLength(1);
      expect(resources(env, "aws_nat_gateway")).toHaveLength(env.network.azCount);
    }
  });

  it("logs all VPC traffic and keeps every log group for a set retention", () => {
    expect(resources(env, "aws_flow_log")).toEqual([expect.objectContaining({ traffic_type: "ALL" })]);
    for (const group of resources(env, "aws_cloudwatch_log_group")) {
      expect(group.retention_in_days, group.__id).toBe(env.logRetentionDays);
    }
  });

  it("runs the services as non-root with read-only root filesystems and secrets from Secrets Manager", () => {
    if (env.compute.kind === "ecs") {
      const definitions = resources(env, "aws_ecs_task_definition").filter(
        (d) => d.__stack === `${env.name}-compute`,
      );
      expect(definitions).toHaveLength(3);
      for (const definition of definitions) {
        const [container] = JSON.parse(String(definition.container_definitions)) as Array<
          Record<string, unknown>
        >;
        expect(container, definition.__id).toMatchObject({
          user: "10001",
          readonlyRootFilesystem: true,
          privileged: false,
        });
        const secrets = (container?.secrets ?? []) as Array<{ name: string; valueFrom: string }>;
        expect(secrets.map((x) => x.name)).toEqual(expect.arrayContaining(["PGUSER", "PGPASSWORD"]));
        const environment = ((container?.environment ?? []) as Array<{ name: string }>).map((e) => e.name);
        expect(environment.filter((n) => /PASSWORD|SECRET|TOKEN/.test(n))).toEqual([]);
        // MSK admits IAM-authenticated clients only, so the services must sign in with their role.
        expect(container?.environment).toEqual(
          expect.arrayContaining([{ name: "KAFKA_AUTH", value: "aws-msk-iam" }]),
        );
      }
      for (const service of resources(env, "aws_ecs_service")) {
        expect(service.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
      }
    } else {
      // The services' Deployments and the trace collector's; the cluster autoscaler runs in kube-system.
      const deployments = resources(env, "kubernetes_deployment_v1").filter(
        (d) => (d.metadata as { namespace?: string }).namespace !== "kube-system",
      );
      expect(deployments).toHaveLength(4);
      for (const deployment of deployments) {
        const text = JSON.stringify(deployment);
        expect(text).toContain('"read_only_root_filesystem":true');
        expect(text).toContain('"run_as_non_root":true');
        expect(text).toContain('"allow_privilege_escalation":false');
        expect(text).toContain('"image_pull_policy":"Always"');
        expect(text).not.toContain('"image_pull_policy":"IfNotPresent"');
      }
      const [cluster] = resources(env, "aws_eks_cluster");
      expect(cluster?.encryption_config).toMatchObject({ resources: ["secrets"] });
      const [template] = resources(env, "aws_launch_template");
      expect(template?.metadata_options).toMatchObject({ http_tokens: "required" });
    }
  });

  it("grants no wildcard IAM action anywhere", () => {
    const statements = iamStatements(env);
    expect(statements.length).toBeGreaterThan(10);
    const wildcards = statements.filter((s) => s.actions.some((a) => a.includes("*"))).map((s) => s.where);
    expect(wildcards).toEqual([]);
  });

  it("lets no role trusted by pull requests read a secret value or write a state object", () => {
    const roles = pullRequestRoles(env);
    expect(roles.map((r) => r.name)).toEqual([`blueprint-${env.name}-github-plan`]);
    const stateObject = (key: string) => `arn:aws:s3:::${env.state.bucket}/${key}`;
    for (const role of roles) {
      // Managed policies are AWS's documents: only an explicit deny proves they grant no secret.
      const may = (action: string, resource: string) =>
        roleMay(role, action, resource, { managedMayAllow: true });
      for (const action of SECRET_READS) {
        for (const resource of secretResources(env))
          expect(may(action, resource), `${role.name} ${action}`).toBe(false);
      }
      for (const key of [
        `${env.name}/compute.tfstate`,
        "other/compute.tfstate",
        `${env.name}/workloads.tfstate`,
      ]) {
        for (const action of ["s3:PutObject", "s3:DeleteObject"]) {
          expect(may(action, stateObject(key)), `${role.name} ${action} ${key}`).toBe(false);
        }
      }
      // It reads the state and takes the lock: a plan needs no more, and no less.
      expect(may("s3:GetObject", stateObject(`${env.name}/compute.tfstate`))).toBe(true);
      expect(may("s3:PutObject", stateObject(`${env.name}/compute.tfstate.tflock`))).toBe(true);
    }
  });

  it("gives pull requests no log content to read: the services' logs nor the database's", () => {
    const logs = [
      `arn:aws:logs:${env.region}:${env.accountId}:log-group:/blueprint/${env.name}/order-service:*`,
      `arn:aws:rds:${env.region}:${env.accountId}:db:blueprint-${env.name}`,
    ];
    for (const role of pullRequestRoles(env)) {
      for (const action of [
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "logs:StartQuery",
        "logs:GetLogRecord",
        "rds:DownloadDBLogFilePortion",
        "rds:DownloadCompleteDBLogFile",
      ]) {
        for (const resource of logs) {
          expect(roleMay(role, action, resource, { managedMayAllow: true }), `${role.name} ${action}`).toBe(
            false,
          );
        }
      }
    }
  });

  it("gives pull requests no Kubernetes Secret to read", () => {
    const planArn = `arn:aws:iam::${env.accountId}:role/blueprint-${env.name}-github-plan`;
    const entries = resources(env, "aws_eks_access_entry").filter((e) => e.principal_arn === planArn);
    for (const entry of entries) {
      const association = resources(env, "aws_eks_access_policy_association").find((a) =>
        String(a.principal_arn).includes(`aws_eks_access_entry.${entry.__id}.`),
      );
      // Namespace-scoped to the services' namespace, where Terraform creates no Secret.
      expect(association?.access_scope, entry.__id).toEqual({ type: "namespace", namespaces: ["blueprint"] });
    }
    expect(resources(env, "kubernetes_secret_v1")).toEqual([]);
  });

  it("keeps secret values out of Terraform: no data source reads one, no pipeline role may", () => {
    const readers = stacksOf(env).flatMap(([stackId, stack]) =>
      Object.keys(stack.data.aws_secretsmanager_secret_version ?? {}).map((id) => `${stackId}/${id}`),
    );
    expect(readers).toEqual([]);
    const pipelineRoles = rolesOf(env).filter((r) => r.name.startsWith(`blueprint-${env.name}-github-`));
    // On EKS the CodeBuild runner inside the VPC runs the pipeline's jobs too.
    const kinds =
      env.compute.kind === "eks" ? ["apply", "deploy", "plan", "runner"] : ["apply", "deploy", "plan"];
    expect(pipelineRoles.map((r) => r.name).sort()).toEqual(
      kinds.map((k) => `blueprint-${env.name}-github-${k}`),
    );
    for (const role of pipelineRoles) {
      for (const resource of secretResources(env)) {
        expect(
          roleMay(role, "secretsmanager:GetSecretValue", resource, { managedMayAllow: true }),
          role.name,
        ).toBe(false);
      }
    }
  });

  it("lets no role attach policies to itself, change its own trust or boundary, or change its boundary's document", () => {
    const roles = rolesOf(env);
    expect(roles.length).toBeGreaterThan(5);
    const selfGrants = roles.flatMap((role) => {
      // Every managed policy is reviewed (next test); none of them grants IAM role changes.
      const may = (action: string, resource: string) =>
        roleMay(role, action, resource, { managedMayAllow: false });
      const own = SELF_GRANTS.filter((action) => may(action, role.arn)).map((a) => `${role.name}: ${a}`);
      const boundary = role.boundary;
      if (boundary && may("iam:CreatePolicyVersion", boundary.arn)) own.push(`${role.name}: its boundary`);
      return own;
    });
    expect(selfGrants).toEqual([]);
  });

  it("puts every role the pipeline applies under the workload boundary, which grants no IAM role or policy change", () => {
    const roles = rolesOf(env);
    const bootstrap = `${env.name}-bootstrap`;
    const boundaryArn = `arn:aws:iam::${env.accountId}:policy/blueprint-${env.name}-workload-boundary`;
    const applied = roles.filter((r) => r.stack !== bootstrap);
    expect(applied.length).toBeGreaterThan(5);
    const unbounded = applied.filter((r) => r.boundary?.arn !== boundaryArn).map((r) => r.name);
    expect(unbounded).toEqual([]);
    const anyRole = `arn:aws:iam::${env.accountId}:role/blueprint-${env.name}-anything`;
    for (const role of applied) {
      for (const action of [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:CreateAccessKey",
      ]) {
        // Even were a role's own policy to grant it (or an attached managed policy), the boundary does not.
        expect(
          roleMay(
            {
              ...role,
              inline: [
                { effect: "Allow", actions: ["iam:*"], resources: ["*"], conditional: false, conditions: [] },
              ],
            },
            action,
            anyRole,
            { managedMayAllow: true },
          ),
          `${role.name} ${action}`,
        ).toBe(false);
      }
    }
  });

  it("lets no role the pipeline applies pass or assume a role outside the environment, whatever its own policy grants", () => {
    const applied = rolesOf(env).filter((r) => r.stack !== `${env.name}-bootstrap`);
    const outside = `arn:aws:iam::${env.accountId}:role/OrganizationAccountAccessRole`;
    const inside = `arn:aws:iam::${env.accountId}:role/blueprint-${env.name}-anything`;
    const grantingAll = (role: (typeof applied)[number]) => ({
      ...role,
      inline: [
        { effect: "Allow" as const, actions: ["*"], resources: ["*"], conditional: false, conditions: [] },
      ],
    });
    // Else the apply role could write `iam:PassRole *` or `sts:AssumeRole *` on a role it creates and run compute as an administrator.
    for (const action of ["iam:PassRole", "sts:AssumeRole"]) {
      const escaping = applied.filter((r) =>
        roleMay(grantingAll(r), action, outside, { managedMayAllow: true }),
      );
      expect(escaping.map((r) => `${r.name} ${action}`)).toEqual([]);
    }
    expect(
      applied.every((r) => roleMay(grantingAll(r), "iam:PassRole", inside, { managedMayAllow: true })),
    ).toBe(true);
  });

  it("attaches only reviewed managed policies, to the roles they were reviewed for, with their guards", () => {
    const unreviewed: string[] = [];
    for (const role of rolesOf(env)) {
      for (const arn of role.managedPolicyArns) {
        const reviewed = reviewedAttachment(arn, role.name);
        if (!reviewed) {
          unreviewed.push(`${role.name}: ${arn}`);
          continue;
        }
        if (reviewed.guard === "permissions-boundary") {
          expect(role.boundary, `${role.name} carries ${arn} without a permissions boundary`).toBeDefined();
        }
        if (reviewed.guard === "deny-secret-reads") {
          for (const action of SECRET_READS) {
            for (const resource of secretResources(env)) {
              expect(
                roleMay(role, action, resource, { managedMayAllow: true }),
                `${role.name} ${action}`,
              ).toBe(false);
            }
          }
        }
      }
    }
    expect(unreviewed).toEqual([]);
  });

  it("contains no literal secret", () => {
    const text = stacksOf(env)
      .map(([, s]) => JSON.stringify(s))
      .join("\n");
    expect(text).not.toMatch(/"(master_)?password"\s*:\s*"/);
    expect(text).not.toMatch(/"secret_string"\s*:/);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  });
});
