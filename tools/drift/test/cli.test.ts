import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT } from "../src/cli";
import { fixture, runCli } from "./helpers";

const repoRoot = path.resolve(__dirname, "../../..");
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "drift-cli-"));

describe("drift CLI exit codes", () => {
  it("When the plan is clean, then it exits 0", () => {
    expect(runCli(["--plan", fixture("noop.json")]).code).toBe(EXIT.clean);
  });

  it("When drift or pending changes are found, then it exits 2", () => {
    expect(runCli(["--plan", fixture("drift.json")]).code).toBe(EXIT.found);
    expect(runCli(["--plan", fixture("create-update-delete.json"), "--format", "json"]).code).toBe(
      EXIT.found,
    );
  });

  it("When everything found is ignored, then it exits 0", () => {
    const dir = tempDir();
    const ignore = path.join(dir, "ignore.yml");
    fs.writeFileSync(
      ignore,
      "ignore:\n  - address: '*'\n    reason: maintenance window\n    expires: 2099-01-01\n",
    );
    const result = runCli(["--plan", fixture("drift.json"), "--ignore", ignore]);
    expect(result.code).toBe(EXIT.clean);
    expect(result.stdout).toContain("No drift and no pending changes (4 ignored by the ignore file).");
  });

  it("When --limit and --full-report are given, then the Markdown fits and names where the rest is", () => {
    const result = runCli([
      "--plan",
      fixture("create-update-delete.json"),
      "--limit",
      "2000",
      "--full-report",
      "the artifact `drift-dev-network`",
    ]);
    expect(result.stdout.length).toBeLessThanOrEqual(2000);
    expect(result.stdout).toContain("The full report is in the artifact `drift-dev-network`.");
  });

  it("When --output is given, then the report goes to that file", () => {
    const out = path.join(tempDir(), "report.json");
    const result = runCli(["--plan", fixture("drift.json"), "--format", "json", "--output", out]);
    expect(result.stdout).toBe("");
    expect(JSON.parse(fs.readFileSync(out, "utf8")).summary.drifted).toBe(4);
  });
});

describe("drift CLI bad input", () => {
  const cases: Array<[string, string[], RegExp]> = [
    [
      "a state file instead of a plan",
      ["--plan", fixture("state.json")],
      /is not a plan: it looks like state \(`terraform show -json` without a plan file\)/,
    ],
    [
      "an unknown format version",
      ["--plan", fixture("format-2.json")],
      /plan format_version "2.0", which this tool does not know/,
    ],
    [
      "text that is not JSON",
      ["--plan", fixture("not-json.txt")],
      /is not JSON .*expected the output of `terraform show -json <planfile>`/,
    ],
    [
      "a plan missing required fields",
      ["--plan", fixture("invalid-plan.json")],
      /is not a valid plan:[\s\S]*resource_changes\[0\]\.change/,
    ],
    ["the plan of a failed run", ["--plan", fixture("errored-plan.json")], /plan of a failed run/],
    [
      "a missing plan file",
      ["--plan", "/nonexistent/plan.json"],
      /cannot read plan file \/nonexistent\/plan.json/,
    ],
    ["no --plan", [], /--plan <file> is required/],
    ["an unknown option", ["--plan", fixture("noop.json"), "--colour"], /Unknown option '--colour'/],
    [
      "an unknown format",
      ["--plan", fixture("noop.json"), "--format", "yaml"],
      /unknown --format "yaml"; use markdown, json or prometheus/,
    ],
    [
      "prometheus without labels",
      ["--plan", fixture("noop.json"), "--format", "prometheus"],
      /needs --env and --stack/,
    ],
    [
      "an expired ignore entry",
      ["--plan", fixture("drift.json"), "--ignore", fixture("ignore-expired.yml")],
      /expired on 2000-01-31/,
    ],
    [
      "a missing ignore file",
      ["--plan", fixture("drift.json"), "--ignore", "/nonexistent.yml"],
      /cannot read ignore file/,
    ],
    ["an unknown command", ["publish"], /unknown command "publish"/],
    [
      "a limit beyond GitHub's",
      ["--plan", fixture("noop.json"), "--limit", "70000"],
      /--limit must be a whole number from 1000 to 65536/,
    ],
  ];

  it.each(cases)("When given %s, then it exits 1 with a clear message", (_, args, message) => {
    const result = runCli(args);
    expect(result.code).toBe(EXIT.error);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("When the command line is wrong, then the usage follows the message; for bad files it does not", () => {
    expect(runCli([]).stderr).toContain("Usage:");
    expect(runCli(["--plan", fixture("state.json")]).stderr).not.toContain("Usage:");
  });
});

describe("drift CLI as a process", () => {
  const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");
  const run = (args: string[]) =>
    spawnSync(tsx, ["tools/drift/src/cli.ts", ...args], { cwd: repoRoot, encoding: "utf8" });

  it("When run through npm run drift, then stdout is the report alone and drift exits 2", () => {
    const result = spawnSync(
      "npm",
      [
        "run",
        "--silent",
        "drift",
        "--",
        "--plan",
        fixture("drift.json"),
        "--format",
        "prometheus",
        "--env",
        "dev",
        "--stack",
        "dev-data",
      ],
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(result.status).toBe(2);
    expect(result.stdout.startsWith("# HELP terraform_drift_resources")).toBe(true);
  });

  it("When run as a process, then a clean plan exits 0 and a bad file exits 1", () => {
    const clean = run(["--plan", fixture("noop.json"), "--format", "json"]);
    expect(clean.status).toBe(0);
    expect(JSON.parse(clean.stdout).summary.pending).toBe(0);
    const bad = run(["--plan", fixture("state.json")]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("is not a plan");
  });
});

describe("drift comment", () => {
  it("When a directory holds reports and plans of several stacks, then one comment covers them all", () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "plan-dev-network"));
    runCli([
      "--plan",
      fixture("create-update-delete.json"),
      "--format",
      "json",
      "--env",
      "dev",
      "--stack",
      "dev-network",
      "--output",
      path.join(dir, "plan-dev-network", "report.json"),
    ]);
    fs.copyFileSync(fixture("replace-stateful.json"), path.join(dir, "dev-data.json"));
    const out = path.join(tempDir(), "comment.md");
    const summary = path.join(tempDir(), "summary.json");
    const result = runCli([
      "comment",
      "--plans-dir",
      dir,
      "--expect",
      "dev-network,dev-data,dev-compute",
      "--run-url",
      "https://github.example/run/9",
      "--output",
      out,
      "--summary-out",
      summary,
    ]);
    expect(result.code).toBe(EXIT.clean);
    const comment = fs.readFileSync(out, "utf8");
    expect(comment).toContain("| `dev-network` | 1 | 4 | 1 | 0 | 0 |");
    expect(comment).toContain("| `dev-data` | 0 | 0 | 1 | 2 | 0 |");
    expect(comment).toContain("| `dev-compute` | plan failed | | | | |");
    expect(JSON.parse(fs.readFileSync(summary, "utf8"))).toMatchObject({
      destroy: 2,
      replace: 2,
      failed: ["dev-compute"],
    });
  });

  it("When the directory has no plans, then it exits 1", () => {
    const result = runCli(["comment", "--plans-dir", tempDir()]);
    expect(result.code).toBe(EXIT.error);
    expect(result.stderr).toContain("no plan JSON under");
  });
});

describe("drift stacks", () => {
  const manifestDir = () => {
    const dir = tempDir();
    const stack = (id: string, dependencies: string[], account: string) => {
      fs.mkdirSync(path.join(dir, "stacks", id), { recursive: true });
      fs.writeFileSync(
        path.join(dir, "stacks", id, "cdk.tf.json"),
        JSON.stringify({ provider: { aws: [{ region: "eu-west-1", allowed_account_ids: [account] }] } }),
      );
      return {
        name: id,
        dependencies,
        synthesizedStackPath: `stacks/${id}/cdk.tf.json`,
        workingDirectory: `stacks/${id}`,
      };
    };
    const stacks = {
      "dev-compute": stack("dev-compute", ["dev-data", "dev-network"], "111111111111"),
      "dev-data": stack("dev-data", ["dev-network"], "111111111111"),
      "dev-network": stack("dev-network", [], "111111111111"),
      "prod-network": stack("prod-network", [], "333333333333"),
      bootstrap: stack("bootstrap", [], "111111111111"),
      "dev-bootstrap": stack("dev-bootstrap", [], "111111111111"),
    };
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ stacks, version: "0.21.0" }));
    return dir;
  };

  it("When listing stacks, then dependencies come first, each with env, account and region, bootstrap stacks left out", () => {
    const dir = manifestDir();
    const result = runCli(["stacks", "--manifest", path.join(dir, "manifest.json")]);
    expect(result.code).toBe(EXIT.clean);
    const stacks = JSON.parse(result.stdout) as Array<{ stack: string; env: string; account: string }>;
    expect(stacks.map((s) => s.stack)).toEqual(["dev-network", "dev-data", "dev-compute", "prod-network"]);
    expect(stacks[3]).toMatchObject({ env: "prod", account: "333333333333", region: "eu-west-1" });
  });

  it("When an environment is named, then only its stacks are listed", () => {
    const dir = manifestDir();
    const result = runCli(["stacks", "--manifest", path.join(dir, "manifest.json"), "--env", "prod"]);
    expect(JSON.parse(result.stdout).map((s: { stack: string }) => s.stack)).toEqual(["prod-network"]);
  });

  it("When there is no manifest, then it says to synthesize first", () => {
    const result = runCli(["stacks", "--manifest", path.join(tempDir(), "manifest.json")]);
    expect(result.code).toBe(EXIT.error);
    expect(result.stderr).toContain("run `npm run synth` first");
  });
});

describe("drift compare", () => {
  const reviewed = () => {
    const file = path.join(tempDir(), "report.json");
    runCli(["--plan", fixture("create-update-delete.json"), "--format", "json", "--output", file]);
    return file;
  };

  it("When the new plan matches the reviewed one, then it exits 0", () => {
    const result = runCli([
      "compare",
      "--reviewed",
      reviewed(),
      "--plan",
      fixture("create-update-delete.json"),
    ]);
    expect(result.code).toBe(EXIT.clean);
    expect(result.stdout).toContain("matches the reviewed plan");
  });

  it("When the new plan differs, then it exits 2 and lists each difference", () => {
    const result = runCli(["compare", "--reviewed", reviewed(), "--plan", fixture("replace-stateful.json")]);
    expect(result.code).toBe(EXIT.found);
    expect(result.stdout).toContain("aws_db_instance.main: replace was not in the reviewed plan");
    expect(result.stdout).toContain("aws_sqs_queue.legacy: reviewed delete is no longer planned");
  });

  it("When an attribute value differs, then that counts as a difference", () => {
    const dir = tempDir();
    const plan = JSON.parse(fs.readFileSync(fixture("create-update-delete.json"), "utf8"));
    plan.resource_changes[1].change.after.desired_count = 5;
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(plan));
    const result = runCli(["compare", "--reviewed", reviewed(), "--plan", path.join(dir, "plan.json")]);
    expect(result.code).toBe(EXIT.found);
    expect(result.stdout).toContain("aws_ecs_service.user_service: attributes differ");
  });
});
