import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, type EnvironmentConfig } from "../environments";
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
      // The services' Deployments; the cluster autoscaler runs in kube-system.
      const deployments = resources(env, "kubernetes_deployment_v1").filter(
        (d) => (d.metadata as { namespace?: string }).namespace !== "kube-system",
      );
      expect(deployments).toHaveLength(3);
      for (const deployment of deployments) {
        const text = JSON.stringify(deployment);
        expect(text).toContain('"read_only_root_filesystem":true');
        expect(text).toContain('"run_as_non_root":true');
        expect(text).toContain('"allow_privilege_escalation":false');
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
