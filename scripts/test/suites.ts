import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface SuiteResult {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** One kind of test or check; `run` streams its output and returns its counts. */
export interface Suite {
  readonly name: string;
  run(env: NodeJS.ProcessEnv, reportDir: string): Promise<SuiteResult>;
}

export function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "inherit", env });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const bin = (name: string) => path.resolve(__dirname, "../../node_modules/.bin", name);

/** A command that is a single pass/fail check (lint, type check). */
export function checkSuite(name: string, command: string, args: readonly string[]): Suite {
  return {
    name,
    async run(env) {
      const code = await exec(bin(command), args, env);
      return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
    },
  };
}

interface JestLikeReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  numRuntimeErrorTestSuites?: number;
}

/**
 * Reads the Jest-format JSON report both Jest and Vitest write. A runner that crashed before
 * writing one, or suites that failed to load, count as failures so they cannot pass silently.
 */
function readReport(file: string, exitCode: number): SuiteResult {
  if (!fs.existsSync(file)) return { passed: 0, failed: 1, skipped: 0 };
  const report = JSON.parse(fs.readFileSync(file, "utf8")) as JestLikeReport;
  const failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  return {
    passed: report.numPassedTests,
    failed: failed === 0 && exitCode !== 0 ? 1 : failed,
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
  };
}

export const vitestSuite: Suite = {
  name: "infrastructure (vitest)",
  async run(env, reportDir) {
    const report = path.join(reportDir, "vitest.json");
    fs.rmSync(report, { force: true });
    const code = await exec(
      bin("vitest"),
      ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
      env,
    );
    return readReport(report, code);
  },
};

/** A Jest run counted from its JSON report; `args` choose the configuration. */
function jestRun(name: string, reportName: string, args: readonly string[]): Suite {
  return {
    name,
    async run(env, reportDir) {
      const report = path.join(reportDir, reportName);
      fs.rmSync(report, { force: true });
      const code = await exec(bin("jest"), [...args, "--json", `--outputFile=${report}`], env);
      return readReport(report, code);
    },
  };
}

export const jestSuite = jestRun("services (jest)", "jest.json", []);

/**
 * The fault suite (docs/faults.md): the services under load while processes, the broker,
 * PostgreSQL and SMTP fail. It starts its own PostgreSQL and broker, so it needs none of the run's.
 */
export const faultSuite = jestRun("faults (jest)", "faults.json", [
  "--config",
  path.resolve(__dirname, "../../services/system-tests/faults/jest.config.js"),
]);
