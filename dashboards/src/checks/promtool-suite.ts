import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { aptInstall, which } from "../../../scripts/deps/prerequisites";
import type { Suite, SuiteResult } from "../../../scripts/test/suites";
import {
  COMPOSE_ALERTMANAGER_CONFIG,
  GENERATED_DIR,
  LOCAL_ALERTMANAGER_CONFIG,
  LOCAL_PROMETHEUS_CONFIG,
  REPO_ROOT,
  RULES_DIR,
} from "../generate";

export const PROMTOOL_TEST_DIR = "dashboards/promtool";

interface CommandResult {
  readonly code: number;
  readonly output: string;
}

/** Runs a command from the repository root, echoing its output and keeping it for parsing. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const listYaml = (dir: string, suffix: string): string[] =>
  fs
    .readdirSync(path.join(REPO_ROOT, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => `${dir}/${f}`);

/** Names of the test groups in a promtool test file. */
function testGroupNames(file: string): string[] {
  const parsed = parse(fs.readFileSync(path.join(REPO_ROOT, file), "utf8")) as {
    tests?: Array<{ name?: string }>;
  };
  return (parsed.tests ?? []).map((t, i) => t.name ?? `${file} #${i + 1}`);
}

/**
 * Counts a promtool test file's groups: all passed when promtool succeeds; otherwise each group
 * named in its failure report failed (at least one, so a crash cannot pass).
 */
function countGroups(groups: readonly string[], result: CommandResult): SuiteResult {
  if (result.code === 0) return { passed: groups.length, failed: 0, skipped: 0 };
  const failed = Math.max(1, groups.filter((name) => result.output.includes(`name: ${name}`)).length);
  return { passed: Math.max(0, groups.length - failed), failed, skipped: 0 };
}

const add = (a: SuiteResult, b: SuiteResult): SuiteResult => ({
  passed: a.passed + b.passed,
  failed: a.failed + b.failed,
  skipped: a.skipped + b.skipped,
});
const check = (ok: boolean): SuiteResult => ({ passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 });

/**
 * The observability checks with Prometheus' own tools: `promtool check config` for both scrape
 * configurations, `promtool check rules` per rule file, `amtool check-config` for Alertmanager, and
 * `promtool test rules` per area, counting each test group.
 */
export const promtoolSuite: Suite = {
  name: "observability (promtool)",
  async run(env) {
    if (!which("promtool")) aptInstall(["prometheus"], "promtool is missing");
    if (!which("amtool")) aptInstall(["prometheus-alertmanager"], "amtool is missing");
    let result: SuiteResult = { passed: 0, failed: 0, skipped: 0 };
    for (const config of [LOCAL_PROMETHEUS_CONFIG, `${GENERATED_DIR}/prometheus.compose.yml`]) {
      result = add(result, check((await run("promtool", ["check", "config", config], env)).code === 0));
    }
    for (const rules of listYaml(RULES_DIR, ".rules.yml")) {
      result = add(result, check((await run("promtool", ["check", "rules", rules], env)).code === 0));
    }
    for (const alertmanager of [LOCAL_ALERTMANAGER_CONFIG, COMPOSE_ALERTMANAGER_CONFIG])
      result = add(result, check((await run("amtool", ["check-config", alertmanager], env)).code === 0));
    for (const testFile of listYaml(PROMTOOL_TEST_DIR, ".test.yml")) {
      const outcome = await run("promtool", ["test", "rules", testFile], env);
      result = add(result, countGroups(testGroupNames(testFile), outcome));
    }
    return result;
  },
};
