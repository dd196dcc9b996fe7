import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { OBSERVED_SERVICES } from "../dashboards/src/registry";
import { ENVIRONMENTS } from "../environments";
import type { SynthesizedStack } from "../modules/testing/synth";
import { synthAll } from "./synth-all";

// Where the services' spans go in AWS, proven on the synthesized Terraform of every environment.
const stacks = synthAll(ENVIRONMENTS);
const layer = (env: string, name: string) => stacks.get(`${env}-${name}`) as SynthesizedStack;
const all = (stack: SynthesizedStack, type: string) => Object.values(stack.resource[type] ?? {});

interface Container {
  name: string;
  environment: Array<{ name: string; value: string }>;
}

/** Plain settings of each service container in the compute layer's task definitions. */
function serviceSettings(env: string): Map<string, Record<string, string>> {
  const containers = all(layer(env, "compute"), "aws_ecs_task_definition").flatMap(
    (t) => JSON.parse(t.container_definitions as string) as Container[],
  );
  return new Map(
    containers.map((c) => [c.name, Object.fromEntries(c.environment.map((e) => [e.name, e.value]))]),
  );
}

/** The collector's ADOT configuration in the observability layer. */
function collectorConfig(env: string): {
  service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
} {
  const [task] = all(layer(env, "observability"), "aws_ecs_task_definition");
  const [container] = JSON.parse(task?.container_definitions as string) as Container[];
  const value = container?.environment.find((e) => e.name === "AOT_CONFIG_CONTENT")?.value;
  if (!value) throw new Error(`${env}: the collector has no AOT_CONFIG_CONTENT`);
  return parseYaml(value);
}

const ecsEnvironments = ENVIRONMENTS.filter((e) => e.compute.kind === "ecs");
const eksEnvironments = ENVIRONMENTS.filter((e) => e.compute.kind === "eks");

describe.each(ecsEnvironments.map((e) => [e.name, e] as const))("traces of %s on ECS", (name, env) => {
  const settings = serviceSettings(name);
  const observability = layer(name, "observability");

  it("When a service starts, then it exports OTLP to the address the collector registers under and its port the collector admits", () => {
    const [namespace] = all(observability, "aws_service_discovery_private_dns_namespace");
    const [discovery] = all(observability, "aws_service_discovery_service");
    const otlpIngress = all(observability, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.description === "spans from the services over OTLP/HTTP",
    );
    expect(otlpIngress).toHaveLength(1);
    const port = otlpIngress[0]?.from_port;
    expect(settings.size).toBeGreaterThan(0);
    for (const [service, values] of settings) {
      expect({ service, ...values }).toMatchObject({
        service,
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://${discovery?.name}.${namespace?.name}:${port}`,
      });
    }
  });

  it("When a request arrives without a caller's decision, then it is traced at the environment's ratio", () => {
    for (const values of settings.values()) {
      expect(values).toMatchObject({
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: String(env.observability.traceSampleRatio),
      });
    }
  });

  it("When spans reach the collector, then its traces pipeline sends what OTLP receives to X-Ray", () => {
    expect(collectorConfig(name).service.pipelines.traces).toMatchObject({
      receivers: ["otlp"],
      exporters: ["awsxray"],
    });
  });
});

describe.each(eksEnvironments.map((e) => [e.name, e] as const))("traces of %s on EKS", (name, env) => {
  const workloads = layer(name, "workloads");
  const deployments = all(workloads, "kubernetes_deployment_v1") as Array<{
    metadata: { name: string; namespace: string };
    spec: { template: { spec: { container: Array<{ env: Array<{ name: string; value: string }> }> } } };
  }>;
  const collector = deployments.find((d) => d.metadata.name === "otel-collector");
  const services = deployments.filter(
    (d) => d !== collector && d.metadata.namespace === collector?.metadata.namespace,
  );
  const [namespace] = all(workloads, "kubernetes_namespace_v1").map(
    (n) => (n.metadata as { name: string }).name,
  );

  it("When a service starts, then it exports OTLP to the collector's Service in its namespace at the environment's ratio", () => {
    const [service] = all(workloads, "kubernetes_service_v1").filter(
      (s) => (s.metadata as { name: string }).name === "otel-collector",
    );
    const spec = service?.spec as { type: string; port: Array<{ port: number }> };
    expect(spec.type).toBe("ClusterIP");
    expect(services.map((d) => d.metadata.name).sort()).toEqual(
      [...OBSERVED_SERVICES.map((s) => s.name)].sort(),
    );
    for (const deployment of services) {
      const values = Object.fromEntries(
        deployment.spec.template.spec.container[0]?.env.map((e) => [e.name, e.value]) ?? [],
      );
      expect(values).toMatchObject({
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://otel-collector.${namespace}.svc.cluster.local:${spec.port[0]?.port}`,
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: String(env.observability.traceSampleRatio),
      });
    }
  });

  it("When the collector's pod assumes its role, then the role trusts its service account only and may put trace segments", () => {
    const compute = layer(name, "compute");
    const [role] = all(compute, "aws_iam_role").filter((r) => r.name === `blueprint-${name}-otel-collector`);
    expect(role).toBeDefined();
    const documents = Object.values(compute.data?.aws_iam_policy_document ?? {}) as Array<{
      statement: Array<{ actions?: string[]; condition?: Array<{ values: string[] }> }>;
    }>;
    const trust = documents.find((d) =>
      d.statement.some((s) =>
        s.condition?.some((c) => c.values.includes("system:serviceaccount:blueprint:otel-collector")),
      ),
    );
    expect(trust).toBeDefined();
    const publish = documents.find((d) =>
      d.statement.some((s) => s.actions?.includes("xray:PutTraceSegments")),
    );
    expect(publish?.statement).toHaveLength(1);
  });
});

describe("trace sampling per environment", () => {
  it("When production is configured, then it samples less than the non-production environments", () => {
    const ratio = (profile: string) =>
      ENVIRONMENTS.filter((e) => e.profile === profile).map((e) => e.observability.traceSampleRatio);
    expect(Math.max(...ratio("production"))).toBeLessThan(Math.min(...ratio("non-production")));
  });
});
