import path from "node:path";
import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, selectEnvironments } from "../environments";
import { buildStacks } from "./app";
import { synthAll } from "./synth-all";

const stacks = synthAll(ENVIRONMENTS);
const names = ENVIRONMENTS.map((e) => e.name);

describe("stacks", () => {
  it("When all environments are synthesized, then each has its layers split by blast radius", () => {
    for (const env of ENVIRONMENTS) {
      const layers = [...stacks.keys()]
        .filter((id) => id.startsWith(`${env.name}-`))
        .map((id) => id.slice(env.name.length + 1));
      const expected = ["bootstrap", "network", "data", "messaging", "edge", "compute", "observability"];
      if (env.compute.kind === "eks") expected.push("workloads");
      if ((env.auth ?? { provider: "cognito" }).provider === "cognito") expected.push("identity");
      expect(layers.sort()).toEqual(expected.sort());
    }
  });

  it.each(names)(
    "When %s is synthesized, then every layer keeps its own encrypted, locked state key",
    (name) => {
      for (const [id, stack] of stacks) {
        if (!id.startsWith(`${name}-`) || id.endsWith("-bootstrap")) continue;
        const layer = id.slice(name.length + 1);
        expect(stack.terraform.backend?.s3).toMatchObject({
          encrypt: true,
          key: `${name}/${layer}.tfstate`,
          dynamodb_table: "blueprint-tflock",
          use_lockfile: true,
        });
      }
    },
  );

  it("When the bootstrap stack is synthesized for its first run, then it uses local state outside cdktf.out", () => {
    const stackDir = path.join("cdktf.out", "stacks", "prod-bootstrap");
    const local = stacks.get("prod-bootstrap")?.terraform.backend?.local as { path: string };
    // cdktf synth empties cdktf.out of stacks not in the run; the only copy of the state must survive it.
    expect(path.normalize(path.join(stackDir, local.path))).toBe(
      path.join(".state", "prod-bootstrap.tfstate"),
    );
  });

  it("When the bootstrap stack is migrated, then it renders the same S3 backend as the other stacks", () => {
    const app = buildStacks(new App(), selectEnvironments("dev"), { bootstrapBackend: "s3" });
    const bootstrap = app.node.tryFindChild("dev-bootstrap");
    expect(bootstrap).toBeDefined();
    const json = JSON.parse(JSON.stringify((bootstrap as never as { toTerraform(): unknown }).toTerraform()));
    expect(json.terraform.backend.s3).toMatchObject({
      key: "dev/bootstrap.tfstate",
      encrypt: true,
      use_lockfile: true,
    });
  });

  it("When any stack is synthesized, then the provider is pinned to the account and tags environment, owner and ManagedBy", () => {
    for (const env of ENVIRONMENTS) {
      for (const [id, stack] of stacks) {
        if (!id.startsWith(`${env.name}-`)) continue;
        const aws = stack.provider?.aws?.[0] as {
          allowed_account_ids: string[];
          default_tags: Array<{ tags: Record<string, string> }>;
        };
        expect(aws.allowed_account_ids).toEqual([env.accountId]);
        expect(aws.default_tags[0]?.tags).toMatchObject({
          Environment: env.name,
          Owner: env.tags.owner,
          ManagedBy: "cdktf",
          Stack: id,
        });
      }
    }
  });

  it("When one environment is selected, then only its stacks are synthesized", () => {
    const only = [...synthAll(selectEnvironments("staging")).keys()];
    expect(only.every((id) => id.startsWith("staging-"))).toBe(true);
    expect(only).toContain("staging-network");
  });

  it("When an unknown environment is selected, then synthesis fails naming the known ones", () => {
    expect(() => selectEnvironments("qa")).toThrow('unknown environment "qa"; known: dev, staging, prod');
  });

  it("When a layer needs another's resources, then it reads them from that layer's remote state, not by duplicating them", () => {
    const data = stacks.get("prod-data");
    expect(Object.keys(data?.data.terraform_remote_state ?? {})).toEqual([
      "cross-stack-reference-input-prod-network",
    ]);
  });

  it("When observability and workloads name the clusters of earlier layers, then the names are plain values: a new cross-stack output fails the reading stack's plan until its layer is applied again", () => {
    const alarms = (id: string) =>
      Object.values(stacks.get(id)?.resource.aws_cloudwatch_metric_alarm ?? {}) as Array<{
        dimensions?: Record<string, string>;
      }>;
    const mskNames = alarms("prod-observability").flatMap((a) => a.dimensions?.["Cluster Name"] ?? []);
    expect(mskNames.length).toBeGreaterThan(0);
    expect(new Set(mskNames)).toEqual(new Set(["blueprint-prod"]));
    const collector = Object.values(stacks.get("dev-observability")?.resource.aws_ecs_task_definition ?? {});
    expect(collector.map((t) => t.family)).toEqual(["blueprint-dev-metrics-collector"]);
    const scraperEntry = Object.values(stacks.get("prod-observability")?.resource.aws_eks_access_entry ?? {});
    expect(scraperEntry.map((e) => e.cluster_name)).toEqual(["blueprint-prod"]);
    const kubernetes = stacks.get("prod-workloads")?.provider?.kubernetes?.[0] as {
      exec: Array<{ args: string[] }>;
    };
    expect(kubernetes.exec[0]?.args).toContain("blueprint-prod");
    for (const layer of ["messaging", "compute"]) {
      for (const env of names) {
        const outputs = Object.keys(stacks.get(`${env}-${layer}`)?.output ?? {});
        expect(outputs.filter((o) => /cross-stack-output-.*[Cc]luster.*name$/.test(o))).toEqual([]);
      }
    }
  });
});
