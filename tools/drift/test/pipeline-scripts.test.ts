import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureTerraform } from "../../../scripts/test/terraform";

/**
 * The workflows' plan, report and apply scripts, run here against a local-state stack of
 * `terraform_data` resources: everything but the AWS credentials and the GitHub runner.
 */
const repoRoot = path.resolve(__dirname, "../../..");
const scripts = path.join(repoRoot, ".github", "scripts");
let work = "";
let env: NodeJS.ProcessEnv = {};

const config = (value: string) => `resource "terraform_data" "setting" {\n  input = "${value}"\n}\n`;

function script(name: string, args: string[]) {
  return spawnSync("bash", [path.join(scripts, name), ...args], { cwd: repoRoot, env, encoding: "utf8" });
}

/** A stack directory whose state holds `applied`, with `wanted` in its configuration. */
function stack(name: string, applied: string, wanted: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "main.tf"), config(applied));
  for (const args of [
    ["init", "-no-color"],
    ["apply", "-auto-approve", "-no-color"],
  ]) {
    const result = spawnSync(env.TERRAFORM as string, args, { cwd: dir, env, encoding: "utf8" });
    if (result.status !== 0) throw new Error(result.stderr);
  }
  fs.writeFileSync(path.join(dir, "main.tf"), config(wanted));
  return dir;
}

/** What the pull request's plan job leaves in the artifact `plan-<stack>`. */
function reviewedPlan(dir: string, stackId: string, reviewed: string) {
  const out = path.join(work, `${stackId}-pr`);
  expect(script("terraform-plan.sh", [dir, out]).status).toBe(0);
  const report = path.join(reviewed, `plan-${stackId}`);
  expect(
    script("drift-report.sh", ["local", stackId, report, `plan-${stackId}`, path.join(out, "plan.json")])
      .status,
  ).toBe(0);
  return report;
}

/** The input the stack's state holds (terraform_data stores it with its type). */
const stored = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, "terraform.tfstate"), "utf8")).resources[0].instances[0]
    .attributes.input.value;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "drift-scripts-"));
  const terraform = await ensureTerraform();
  fs.writeFileSync(path.join(work, "terraformrc"), "");
  env = {
    ...process.env,
    PATH: `${path.dirname(terraform)}${path.delimiter}${process.env.PATH}`,
    TERRAFORM: terraform,
    TF_CLI_CONFIG_FILE: path.join(work, "terraformrc"),
    TF_IN_AUTOMATION: "1",
    CHECKPOINT_DISABLE: "1",
    RUNNER_TEMP: work,
    DRIFT_IGNORE_FILE: "",
  };
}, 900_000);

describe("the plan and report scripts", () => {
  it("When a stack has changes, then the plan job leaves a plan, a text plan and every report format", () => {
    const dir = stack("report", "v1", "v2");
    const reviewed = reviewedPlan(dir, "local-report", path.join(work, "reviewed-report"));
    expect(fs.readdirSync(reviewed).sort()).toEqual(["metrics.prom", "report.json", "report.md"]);
    expect(JSON.parse(fs.readFileSync(path.join(reviewed, "report.json"), "utf8")).summary.pending).toBe(1);
    expect(fs.readFileSync(path.join(work, "local-report-pr", "plan.txt"), "utf8")).toContain(
      "terraform_data.setting will be updated in-place",
    );
  });
});

describe("the apply script", () => {
  it("When the merged code plans what was reviewed, then it applies that plan", () => {
    const dir = stack("same", "v1", "v2");
    const reviewed = path.join(work, "reviewed-same");
    reviewedPlan(dir, "local-same", reviewed);
    const stacks = JSON.stringify([{ stack: "local-same", env: "local", dir, account: "0", region: "x" }]);
    const result = script("terraform-apply.sh", ["local", stacks, reviewed]);
    expect(result.stdout).toContain("The plan matches the reviewed plan.");
    expect(result.status).toBe(0);
    expect(stored(dir)).toBe("v2");
  });

  it("When the plan differs from the reviewed one, then it refuses and applies nothing", () => {
    const dir = stack("moved-on", "v1", "v2");
    const reviewed = path.join(work, "reviewed-moved-on");
    reviewedPlan(dir, "local-moved-on", reviewed);
    fs.writeFileSync(path.join(dir, "main.tf"), config("v3"));
    const stacks = JSON.stringify([
      { stack: "local-moved-on", env: "local", dir, account: "0", region: "x" },
    ]);
    const result = script("terraform-apply.sh", ["local", stacks, reviewed]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("terraform_data.setting: attributes differ");
    expect(result.stdout).toContain("is not the one reviewed in the pull request; refusing to apply");
    expect(stored(dir)).toBe("v1");
  });

  it("When a stack has no reviewed plan, then it refuses", () => {
    const dir = stack("unreviewed", "v1", "v2");
    const stacks = JSON.stringify([
      { stack: "local-unreviewed", env: "local", dir, account: "0", region: "x" },
    ]);
    const result = script("terraform-apply.sh", ["local", stacks, path.join(work, "nothing-reviewed")]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("no reviewed plan for local-unreviewed");
    expect(stored(dir)).toBe("v1");
  });
});
