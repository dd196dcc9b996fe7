import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureTerraform } from "../../../scripts/test/terraform";
import { EXIT } from "../src/cli";
import { runCli } from "./helpers";

/**
 * Plans made by the real Terraform binary from `terraform_data` resources (built into Terraform,
 * no provider download), so the tool is pinned to the format Terraform actually writes.
 */
const BEFORE = `
resource "terraform_data" "keep" {
  input = "same"
}
resource "terraform_data" "change" {
  input = "v1"
}
resource "terraform_data" "replace" {
  input            = "r"
  triggers_replace = ["a"]
}
resource "terraform_data" "gone" {
  input = "bye"
}
resource "terraform_data" "old_name" {
  input = "moving"
}
resource "terraform_data" "secret" {
  input = sensitive("old-secret-value")
}
`;

const AFTER = `
resource "terraform_data" "keep" {
  input = "same"
}
resource "terraform_data" "change" {
  input = "v2"
}
resource "terraform_data" "replace" {
  input            = "r"
  triggers_replace = ["b"]
}
moved {
  from = terraform_data.old_name
  to   = terraform_data.new_name
}
resource "terraform_data" "new_name" {
  input = "moving"
}
resource "terraform_data" "secret" {
  input = sensitive("new-secret-value")
}
resource "terraform_data" "added" {
  input = "hello"
}
import {
  to = terraform_data.imported
  id = "imported-id"
}
resource "terraform_data" "imported" {
  input = "x"
}
`;

let dir = "";
let terraform = "";
const files = { plan: "", refresh: "", state: "" };
let planExitCode: number | null = null;
let refreshExitCode: number | null = null;

function tf(args: string[]): void {
  execFileSync(terraform, args, { cwd: dir, env: tfEnv(), stdio: "pipe" });
}

const tfEnv = () => ({
  ...process.env,
  CHECKPOINT_DISABLE: "1",
  TF_IN_AUTOMATION: "1",
  TF_INPUT: "0",
  TF_CLI_CONFIG_FILE: path.join(dir, "terraformrc"),
});

function showJson(planFile: string, out: string): string {
  const file = path.join(dir, out);
  fs.writeFileSync(
    file,
    execFileSync(terraform, ["show", "-json", ...(planFile ? [planFile] : [])], { cwd: dir, env: tfEnv() }),
  );
  return file;
}

beforeAll(async () => {
  terraform = await ensureTerraform();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-real-terraform-"));
  fs.writeFileSync(path.join(dir, "terraformrc"), "");
  fs.writeFileSync(path.join(dir, "main.tf"), BEFORE);
  tf(["init", "-no-color"]);
  tf(["apply", "-auto-approve", "-no-color"]);

  // Nothing changed outside Terraform: a refresh-only plan with -detailed-exitcode exits 0.
  refreshExitCode = spawnSync(
    terraform,
    ["plan", "-refresh-only", "-detailed-exitcode", "-lock=false", "-no-color", "-out=refresh.tfplan"],
    { cwd: dir, env: tfEnv() },
  ).status;
  files.refresh = showJson("refresh.tfplan", "refresh.json");
  files.state = showJson("", "state.json");

  fs.writeFileSync(path.join(dir, "main.tf"), AFTER);
  planExitCode = spawnSync(
    terraform,
    ["plan", "-detailed-exitcode", "-lock=false", "-no-color", "-out=tfplan"],
    { cwd: dir, env: tfEnv() },
  ).status;
  files.plan = showJson("tfplan", "plan.json");
}, 900_000);

describe("a plan from the real terraform binary", () => {
  it("When Terraform plans changes, then -detailed-exitcode is 2 and the report lists every action", () => {
    expect(planExitCode).toBe(2);
    const result = runCli([
      "--plan",
      files.plan,
      "--format",
      "json",
      "--env",
      "local",
      "--stack",
      "local-data",
    ]);
    expect(result.code).toBe(EXIT.found);
    const report = JSON.parse(result.stdout);
    expect(report.formatVersion).toMatch(/^1\.\d+$/);
    const actions = Object.fromEntries(
      report.pending.map((e: { address: string; action: string }) => [e.address, e.action]),
    );
    expect(actions).toEqual({
      "terraform_data.added": "create",
      "terraform_data.change": "update",
      "terraform_data.gone": "delete",
      "terraform_data.imported": "update",
      "terraform_data.new_name": "move",
      "terraform_data.replace": "replace",
      "terraform_data.secret": "update",
    });
    expect(report.summary).toMatchObject({ drifted: 0, pending: 7 });
  });

  it("When Terraform marks values unknown, sensitive or forcing replacement, then the report shows it", () => {
    const report = JSON.parse(runCli(["--plan", files.plan, "--format", "json"]).stdout);
    const byAddress = (address: string) =>
      report.pending.find((e: { address: string }) => e.address === address).attributes;
    expect(byAddress("terraform_data.change")).toEqual([
      { path: "input", before: "v1", after: "v2" },
      { path: "output", before: "v1", after: "(known after apply)", afterUnknown: true },
    ]);
    expect(byAddress("terraform_data.secret")).toContainEqual({
      path: "input",
      before: "(sensitive)",
      after: "(sensitive)",
      beforeSensitive: true,
      afterSensitive: true,
    });
    expect(byAddress("terraform_data.replace")).toContainEqual({
      path: "triggers_replace[0]",
      before: "a",
      after: "b",
      forcesReplacement: true,
    });
    const imported = report.pending.find((e: { address: string }) => e.address === "terraform_data.imported");
    expect(imported.importing).toBe(true);
    const moved = report.pending.find((e: { address: string }) => e.address === "terraform_data.new_name");
    expect(moved.previousAddress).toBe("terraform_data.old_name");
  });

  it("When rendered in every format, then the new sensitive value appears in none", () => {
    for (const format of ["markdown", "json", "prometheus"]) {
      const output = runCli([
        "--plan",
        files.plan,
        "--format",
        format,
        "--env",
        "local",
        "--stack",
        "s",
      ]).stdout;
      expect(output).not.toContain("new-secret-value");
    }
  });

  it("When a refresh-only plan finds nothing, then the report is clean and exits 0", () => {
    expect(refreshExitCode).toBe(0);
    const result = runCli(["--plan", files.refresh]);
    expect(result.code).toBe(EXIT.clean);
    expect(result.stdout).toContain("No drift and no pending changes.");
  });

  it("When given the refresh-only and the normal plan together, then drift and pending changes combine", () => {
    const report = JSON.parse(
      runCli(["--plan", files.refresh, "--plan", files.plan, "--format", "json"]).stdout,
    );
    expect(report.summary).toMatchObject({ drifted: 0, pending: 7 });
  });

  it("When given state JSON (terraform show -json without a plan), then it exits 1 saying it is not a plan", () => {
    const result = runCli(["--plan", files.state]);
    expect(result.code).toBe(EXIT.error);
    expect(result.stderr).toContain("looks like state");
  });
});
