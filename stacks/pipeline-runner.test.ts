import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ENVIRONMENTS } from "../environments";
import { pipelineRunnerName } from "./compute-stack";
import { PLATFORM } from "./environment-stack";
import { synthAll } from "./synth-all";

const stacks = synthAll(ENVIRONMENTS);
const workflows = path.join(__dirname, "..", ".github", "workflows");

function runsOn(workflow: string, job: string): string {
  const doc = parseYaml(fs.readFileSync(path.join(workflows, workflow), "utf8")) as {
    jobs: Record<string, { "runs-on": string }>;
  };
  return String(doc.jobs[job]?.["runs-on"]);
}

describe.each(ENVIRONMENTS.filter((e) => e.compute.kind === "eks").map((e) => [e.name] as const))(
  "pipelines of %s reach its private Kubernetes API",
  (name) => {
    const compute = stacks.get(`${name}-compute`);
    const project = Object.values(compute?.resource.aws_codebuild_project ?? {})[0];

    it("When a workloads job is queued, then a CodeBuild runner in the VPC's private subnets takes it", () => {
      expect(project).toMatchObject({ name: pipelineRunnerName(`${PLATFORM}-${name}`) });
      expect(
        (project?.vpc_config as { subnets: string[] } | undefined)?.subnets.length,
      ).toBeGreaterThanOrEqual(2);
      const [webhook] = Object.values(compute?.resource.aws_codebuild_webhook ?? {});
      expect(webhook?.filter_group).toEqual([
        { filter: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] },
      ]);
    });

    it("When the runner calls the Kubernetes API, then the cluster security group admits it on 443", () => {
      const rules = Object.values(compute?.resource.aws_vpc_security_group_ingress_rule ?? {}).filter(
        (r) => r.description === "Kubernetes API from the pipelines' in-VPC runner",
      );
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ from_port: 443, to_port: 443 });
      expect(String(rules[0]?.security_group_id)).toContain("aws_eks_cluster");
    });

    it("When the workflows plan, apply or check drift of workloads, then they ask for that runner by name", () => {
      const label = `codebuild-${pipelineRunnerName(`${PLATFORM}-{0}`)}-{1}-{2}`;
      expect(runsOn("infra-pr.yml", "plan")).toContain(
        `endsWith(matrix.stack, '-workloads') && format('${label}'`,
      );
      expect(runsOn("drift.yml", "check")).toContain(
        `endsWith(matrix.stack, '-workloads') && format('${label}'`,
      );
      expect(runsOn("terraform-apply.yml", "apply")).toContain(`format('${label}'`);
    });
  },
);
