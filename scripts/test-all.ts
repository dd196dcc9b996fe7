import fs from "node:fs";
import path from "node:path";
import { promtoolSuite } from "../dashboards/src/checks/promtool-suite";
import type { Dependency } from "./deps/dependency";
import { DependencyStartError, downAll, localDependencies, upAll } from "./deps/registry";
import { loadSettings } from "./deps/settings";
import { actionlintSuite } from "./test/actionlint";
import { checkovSuite } from "./test/checkov";
import { composeCheckSuite } from "./test/compose-check";
import { checkSuite, jestSuite, type Suite, type SuiteResult, vitestSuite } from "./test/suites";

/**
 * The one test command: static checks, then local dependencies up, every suite against them,
 * dependencies this run started stopped again, and one summary line.
 */
async function main(): Promise<number> {
  const settings = loadSettings();
  const reportDir = path.join(settings.localDir, "reports");
  fs.mkdirSync(reportDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    PGHOST: settings.host,
    PGPORT: String(settings.postgresPort),
    KAFKA_BROKERS: `${settings.host}:${settings.kafkaPort}`,
    PROMETHEUS_URL: `http://${settings.host}:${settings.prometheusPort}`,
  };

  const results: Array<[string, SuiteResult]> = [];
  const runSuite = async (suite: Suite) => {
    console.log(`\n=== ${suite.name} ===`);
    results.push([suite.name, await suite.run(env, reportDir)]);
  };

  await runSuite(checkSuite("lint (biome)", "biome", ["ci", "--colors=off", "."]));
  await runSuite(checkSuite("typecheck (tsc)", "tsc", ["-p", "tsconfig.json"]));
  await runSuite(actionlintSuite);
  await runSuite(composeCheckSuite);
  await runSuite(checkovSuite(settings.localDir));

  const deps = localDependencies(settings);
  let started: Dependency[] = [];
  const stop = async () => {
    if (started.length === 0) return;
    console.log("\n=== stopping the dependencies this run started ===");
    const toStop = started;
    started = [];
    await downAll(toStop);
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));

  try {
    console.log("\n=== local dependencies ===");
    try {
      started = await upAll(deps, (line) => console.log(line));
    } catch (error) {
      // upAll stops at the first failure; what it had started is still ours to stop.
      if (error instanceof DependencyStartError) started = [...error.started];
      console.error(
        `dependencies failed to start: ${error instanceof Error ? error.message : String(error)}`,
      );
      results.push(["local dependencies", { passed: 0, failed: 1, skipped: 0 }]);
      return summarize(results);
    }
    await runSuite(promtoolSuite);
    await runSuite(vitestSuite);
    await runSuite(jestSuite);
  } finally {
    await stop();
  }
  return summarize(results);
}

function summarize(results: ReadonlyArray<[string, SuiteResult]>): number {
  console.log("\n=== summary ===");
  for (const [name, r] of results) {
    console.log(
      `${name.padEnd(28)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ""}`,
    );
  }
  const total = results.reduce(
    (sum, [, r]) => ({
      passed: sum.passed + r.passed,
      failed: sum.failed + r.failed,
      skipped: sum.skipped + r.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  console.log(
    `${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`,
  );
  return total.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
