import { describe, expect, it } from "vitest";
import { selectEnvironments } from "../../environments";
import { MINIMUM_TERRAFORM_VERSION } from "../../stacks/environment-stack";
import { synthAll } from "../../stacks/synth-all";
import { type CheckovReport, judgeReport, withoutRequiredVersion } from "./checkov";

const stack = synthAll(selectEnvironments("dev")).get("dev-data") as unknown as Record<string, unknown> & {
  terraform: Record<string, unknown>;
};
const files = new Map([
  ["dev-data", "/repo/.local/checkov-synth/checkov/dev-data/cdk.tf.json"],
  ["dev-edge", "/repo/.local/checkov-synth/checkov/dev-edge/cdk.tf.json"],
]);
const probe = "/repo/.local/checkov-synth/checkov/required-version-probe/cdk.tf.json";
const failure = (checkId: string, resource: string, stackId: string) => ({
  check_id: checkId,
  check_name: "a check",
  resource,
  file_path: `/.local/checkov-synth/checkov/${stackId}/cdk.tf.json`,
});

describe("checkov's copy of the stacks", () => {
  it("When a stack is handed to checkov, then only its copy goes without required_version", () => {
    const copy = withoutRequiredVersion(stack);
    expect(copy.terraform).not.toHaveProperty("required_version");
    const { required_version, ...rest } = stack.terraform;
    expect(copy).toEqual({ ...stack, terraform: rest });
    // The stack Terraform runs still demands the version its S3 lockfile needs.
    expect(required_version).toBe(`>= ${MINIMUM_TERRAFORM_VERSION}`);
    expect(stack.terraform.required_version).toBe(`>= ${MINIMUM_TERRAFORM_VERSION}`);
  });
});

describe("reading a checkov report", () => {
  it("When checkov cannot parse the probe with required_version, then the workaround is still needed and nothing fails", () => {
    const report: CheckovReport = { results: { failed_checks: [], parsing_errors: [probe] } };
    const { problems, probeProblem } = judgeReport(report, files, probe);
    expect(probeProblem).toBeUndefined();
    expect([...problems.values()]).toEqual([[], []]);
  });

  it("When a newer checkov parses the probe, then the suite fails and says to remove the workaround", () => {
    const { probeProblem } = judgeReport(
      { results: { failed_checks: [], parsing_errors: [] } },
      files,
      probe,
    );
    expect(probeProblem).toMatch(/parses terraform.required_version now: remove withoutRequiredVersion/);
  });

  it("When checkov cannot parse a stack, then that stack fails instead of passing with nothing checked", () => {
    const report: CheckovReport = { results: { parsing_errors: [files.get("dev-edge") as string] } };
    const { problems } = judgeReport(report, files);
    expect(problems.get("dev-edge")).toEqual(["checkov could not parse it, so it checked nothing"]);
    expect(problems.get("dev-data")).toEqual([]);
  });

  it("When checks fail, then each stack gets its own and waived resources are left out", () => {
    const report: CheckovReport = {
      results: {
        failed_checks: [
          failure("CKV_AWS_1", "aws_db_instance.Postgres", "dev-data"),
          failure("CKV_AWS_107", "data.Pipeline_ApplyBoundaryDocument_123", "dev-edge"),
        ],
      },
    };
    const { problems } = judgeReport(report, files);
    expect(problems.get("dev-data")).toEqual(["CKV_AWS_1 aws_db_instance.Postgres: a check"]);
    expect(problems.get("dev-edge")).toEqual([]);
  });
});
