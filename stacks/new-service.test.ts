import { CATALOG, type Catalog } from "@blueprint/service-kit/catalog";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, type EnvironmentConfig } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import type { SynthesizedStack } from "../modules/testing/synth";
import { synthAll } from "./synth-all";
import { addressesOf } from "./terraform-addresses";

// Adding a service is one catalog entry (plus its sizing per environment) and its own code: every
// layer picks it up without a line of stack code. Typed as string so the copy may grow the catalog.
const AUDIT: string = "audit-service";
const catalog: Catalog = {
  ...CATALOG,
  services: {
    ...CATALOG.services,
    [AUDIT]: {
      port: 8084,
      database: { role: "audit_service", schema: "audit" },
      pathPrefix: "/audit",
      routes: [{ method: "GET", path: "/audit" }],
      produces: ["audit.recorded"],
      consumes: ["user.created"],
      secrets: ["database"],
      metrics: [],
    },
  },
  topics: { ...CATALOG.topics, "audit.recorded": { partitions: 3 } },
};
const withAudit = (env: EnvironmentConfig): EnvironmentConfig => ({
  ...env,
  services: { ...env.services, [AUDIT]: env.services["user-service"] },
});

const stacks = synthAll([withAudit(dev), withAudit(prod)], { catalog });
const baseline = synthAll(ENVIRONMENTS.filter((e) => e.name !== "staging"));

function stack(id: string): SynthesizedStack {
  const found = stacks.get(id);
  if (!found) throw new Error(`no stack ${id}`);
  return found;
}

function resources(id: string, type: string): Record<string, unknown>[] {
  return Object.values(stack(id).resource[type] ?? {});
}

function named(id: string, type: string, name: string): Record<string, unknown> {
  const found = resources(id, type).find((r) => r.name === name);
  if (!found) throw new Error(`${id}: no ${type} named ${name}`);
  return found;
}

function statement(id: string, sid: string, resource: string) {
  const statements = Object.values(stack(id).data.aws_iam_policy_document ?? {}).flatMap(
    (d) => d.statement as Array<{ sid?: string; resources?: string[] }>,
  );
  return statements.filter((s) => s.sid === sid && s.resources?.some((r) => r.includes(resource)));
}

describe("a fourth service added to a copy of the catalog", () => {
  it("When synthesized, then it gets its repository, its secret container and its route on the load balancer", () => {
    for (const env of ["dev", "prod"]) {
      named(`${env}-compute`, "aws_ecr_repository", `blueprint/${AUDIT}`);
      expect(
        named(`${env}-data`, "aws_secretsmanager_secret", `blueprint/${env}/${AUDIT}/database`),
      ).toMatchObject({
        kms_key_id: expect.any(String),
      });
      expect(resources(`${env}-data`, "aws_secretsmanager_secret").map((s) => s.name)).not.toContain(
        `blueprint/${env}/${AUDIT}/smtp`,
      );
      const targetGroup = named(`${env}-edge`, "aws_lb_target_group", `blueprint-${env}-${AUDIT}`);
      expect(targetGroup.port).toBe(env === "prod" ? 30084 : 8084);
      const rules = resources(`${env}-edge`, "aws_lb_listener_rule").map((r) => JSON.stringify(r.condition));
      expect(rules).toContain(JSON.stringify([{ path_pattern: { values: ["/audit", "/audit/*"] } }]));
    }
  });

  it("When synthesized, then its secrets say what they must hold, the database login naming the role and schema to create", () => {
    expect(
      named("prod-data", "aws_secretsmanager_secret", `blueprint/prod/${AUDIT}/database`).description,
    ).toBe(
      `PostgreSQL login of ${AUDIT} (role audit_service, schema audit): JSON with username and password`,
    );
    expect(
      named("prod-data", "aws_secretsmanager_secret", "blueprint/prod/notification-service/smtp").description,
    ).toBe("SMTP relay of notification-service: JSON with host, port, username, password");
  });

  it("When synthesized, then its role writes only its topic and dead letters, reads what it consumes in its own group, and reads its own secret", () => {
    for (const env of ["dev", "prod"]) {
      const id = `${env}-compute`;
      named(id, "aws_iam_role", `blueprint-${env}-${AUDIT}`);
      expect(statement(id, "WriteOwnTopics", "/audit.recorded")[0]?.resources).toEqual([
        expect.stringMatching(/\/audit\.recorded$/),
        expect.stringMatching(/\/user\.created\.dlt$/),
      ]);
      expect(statement(id, "ReadSubscribedTopics", "/user.created")).not.toHaveLength(0);
      expect(statement(id, "JoinOwnGroups", `/${AUDIT}`)[0]?.resources).toEqual([
        expect.stringMatching(new RegExp(`/${AUDIT}$`)),
      ]);
      expect(statement(id, "ReadOwnSecrets", `Secret-${AUDIT}-database`)[0]?.resources).toHaveLength(1);
    }
  });

  it("When compute is ECS, then it runs as a Fargate service reading its database login from its secret", () => {
    named("dev-compute", "aws_ecs_service", AUDIT);
    const task = resources("dev-compute", "aws_ecs_task_definition").find(
      (t) => t.family === `blueprint-dev-${AUDIT}`,
    );
    const [container] = JSON.parse(task?.container_definitions as string) as Array<{
      secrets: Array<{ name: string; valueFrom: string }>;
      environment: Array<{ name: string; value: string }>;
    }>;
    expect(container?.secrets.map((s) => s.name)).toEqual(["PGPASSWORD", "PGUSER"]);
    expect(container?.secrets[0]?.valueFrom).toMatch(new RegExp(`Secret-${AUDIT}-database.*:password::$`));
    expect(container?.environment).toContainEqual({ name: "PGDATABASE", value: CATALOG.database });
    expect(container?.environment).toContainEqual({ name: "PORT", value: "8084" });
  });

  it("When compute is ECS, then the metrics collector may scrape it and an alarm watches its targets", () => {
    const egress = resources("dev-observability", "aws_vpc_security_group_egress_rule");
    expect(egress).toContainEqual(
      expect.objectContaining({ description: `scrape ${AUDIT}`, from_port: 8084 }),
    );
    expect(resources("dev-observability", "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name)).toContain(
      `blueprint-dev-alb-${AUDIT}-no-healthy-target`,
    );
    const ingress = resources("dev-network", "aws_vpc_security_group_ingress_rule");
    expect(ingress).toContainEqual(expect.objectContaining({ from_port: 8084, to_port: 8084 }));
    const collector = resources("dev-observability", "aws_ecs_task_definition");
    expect(collector.map((t) => String(t.container_definitions)).join("\n")).toContain(`job_name: ${AUDIT}`);
  });

  it("When compute is EKS, then it runs as a Deployment behind its NodePort, with its IRSA role and secret references", () => {
    const workloads = "prod-workloads";
    const metadataNames = (type: string) =>
      resources(workloads, type).map((r) => (r.metadata as { name: string }).name);
    expect(metadataNames("kubernetes_deployment_v1")).toContain(AUDIT);
    expect(metadataNames("kubernetes_service_account_v1")).toContain(AUDIT);
    const object = (type: string) => {
      const found = resources(workloads, type).find((r) => (r.metadata as { name: string }).name === AUDIT);
      if (!found) throw new Error(`${workloads}: no ${type} named ${AUDIT}`);
      return found;
    };
    const service = object("kubernetes_service_v1").spec as { port: Array<{ node_port: number }> };
    expect(service.port[0]?.node_port).toBe(30084);
    const deployment = object("kubernetes_deployment_v1").spec as {
      template: { spec: { container: Array<{ env: Array<{ name: string; value: string }> }> } };
    };
    const references = deployment.template.spec.container[0]?.env.find((e) => e.name === "ENV_VALUE_FROM");
    expect(references?.value).toMatch(/"PGUSER" = ".*Secret-audit-service-database.*:username::"/);
    expect(references?.value).toMatch(/"PGPASSWORD" = ".*Secret-audit-service-database.*:password::"/);
    const trust = Object.values(stack("prod-compute").data.aws_iam_policy_document ?? {})
      .flatMap((d) => d.statement as Array<{ condition?: Array<{ values: string[] }> }>)
      .flatMap((s) => s.condition ?? [])
      .flatMap((c) => c.values);
    expect(trust).toContain(`system:serviceaccount:blueprint:${AUDIT}`);
    expect(resources("prod-compute", "aws_vpc_security_group_ingress_rule")).toContainEqual(
      expect.objectContaining({ from_port: 30084, description: `ALB to the ${AUDIT} NodePort` }),
    );
    expect(resources("prod-compute", "aws_autoscaling_attachment")).toHaveLength(4);
    const [scraper] = resources("prod-observability", "aws_prometheus_scraper");
    expect(String(scraper?.scrape_configuration)).toContain(`|${AUDIT}`);
  });

  it("When added, then every resource the other services had keeps its Terraform address", () => {
    for (const [id, before] of baseline) {
      const after = addressesOf(stack(id) as never);
      const missing = [...addressesOf(before as never).keys()].filter((a) => !after.has(a));
      expect(missing, id).toEqual([]);
    }
  });

  it("When an environment has no sizing for a catalog service, then synthesis fails naming both", () => {
    expect(() => synthAll([dev], { catalog })).toThrow(
      `environment "dev": services must give the sizing of "${AUDIT}" (every catalog service needs one)`,
    );
  });
});
