import fs from "node:fs";
import path from "node:path";
import { promtoolSuite } from "../dashboards/src/checks/promtool-suite";
import type { Dependency } from "./deps/dependency";
import { secondsSince } from "./deps/progress";
import { DependencyStartError, downAll, localDependencies, startedSince, upAll } from "./deps/registry";
import { dependencyEnv, loadSettings } from "./deps/settings";
import { actionlintSuite } from "./test/actionlint";
import { checkovSuite } from "./test/checkov";
import { composeCheckSuite } from "./test/compose-check";
import { checkSuite, faultSuite, jestSuite, type Suite, vitestSuite } from "./test/suites";
import { type SuiteOutcome, summaryLines } from "./test/summary";

/**
 * The one test command: static checks, then the dependencies up (our own, or external ones with
 * BLUEPRINT_DEPS=external), every suite against them, dependencies this run started stopped
 * again, the fault suite on dependencies of its own, and a summary with each suite's duration.
 */
async function main(): Promise<number> {
  const began = Date.now();
  const settings = loadSettings();
  const reportDir = path.join(settings.localDir, "reports");
  fs.mkdirSync(reportDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    ...dependencyEnv(settings),
    // The system tests create and drop their own databases as the superuser.
    PGSUPERUSER: settings.postgres.superuser,
    PGSUPERPASSWORD: settings.postgres.superuserPassword,
  };

  const outcomes: SuiteOutcome[] = [];
  const timed = async (name: string, run: () => Promise<SuiteOutcome["result"]>) => {
    const start = Date.now();
    const result = await run();
    outcomes.push({ name, result, seconds: secondsSince(start) });
    return result;
  };
  const runSuite = (suite: Suite) => {
    console.log(`\n=== ${suite.name} ===`);
    return timed(suite.name, () => suite.run(env, reportDir));
  };
  await runSuite(checkSuite("lint (biome)", "biome", ["ci", "--colors=off", "."]));
  await runSuite(checkSuite("typecheck (tsc)", "tsc", ["-p", "tsconfig.json"]));
  await runSuite(actionlintSuite);
  await runSuite(composeCheckSuite);
  await runSuite(checkovSuite(settings.localDir));

  const deps = localDependencies(settings);
  let started: Dependency[] = [];
  // Until upAll returns, `started` is not known yet: an interrupt then stops what runs now and did not before.
  const runningBefore = new Set(deps.filter((d) => d.runningPid() !== undefined));
  let starting = true;
  const stop = async () => {
    const toStop = starting ? startedSince(deps, runningBefore) : started;
    starting = false;
    started = [];
    if (toStop.length === 0) return;
    console.log("\n=== stopping the dependencies this run started ===");
    await downAll(toStop);
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));

  try {
    const depsStep = `dependencies (${settings.mode})`;
    console.log(`\n=== ${depsStep} ===`);
    const ready = await timed(depsStep, async () => {
      try {
        started = await upAll(deps, (line) => console.log(line));
        return { passed: 1, failed: 0, skipped: 0 };
      } catch (error) {
        // upAll stops at the first failure; what it had started is still ours to stop.
        if (error instanceof DependencyStartError) started = [...error.started];
        console.error(`dependencies not ready: ${error instanceof Error ? error.message : String(error)}`);
        return { passed: 0, failed: 1, skipped: 0 };
      } finally {
        starting = false;
      }
    });
    if (ready.failed === 0) {
      await runSuite(promtoolSuite);
      await runSuite(vitestSuite);
      await runSuite(jestSuite);
    }
  } finally {
    await stop();
  }
  // Last, and with the run's dependencies stopped: it starts and breaks its own.
  await runSuite(faultSuite);
  // After stopping, so the count line CI reads stays the last one printed.
  console.log("\n=== summary ===");
  for (const line of summaryLines(outcomes, secondsSince(began))) console.log(line);
  return outcomes.every((o) => o.result.failed === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
