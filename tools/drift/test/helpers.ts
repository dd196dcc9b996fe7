import fs from "node:fs";
import path from "node:path";
import { vi } from "vitest";
import { main } from "../src/cli";
import { type IgnoreEntry, loadIgnoreFile } from "../src/ignore";
import { parsePlan } from "../src/plan";
import { type BuildOptions, buildReport, type Report } from "../src/report";

export const fixture = (name: string) => path.join(__dirname, "..", "fixtures", name);

export const loadPlan = (name: string) => parsePlan(fs.readFileSync(fixture(name), "utf8"), name);

export const reportOf = (names: string | string[], options: BuildOptions = {}): Report =>
  buildReport((Array.isArray(names) ? names : [names]).map(loadPlan), options);

export const ignoreOf = (name: string, now = new Date()): IgnoreEntry[] => loadIgnoreFile(fixture(name), now);

export const entry = (report: Report, address: string) => {
  const found = [...report.drift, ...report.pending].find((e) => e.address === address);
  if (!found) throw new Error(`${address} is not in the report`);
  return found;
};

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in this process, capturing what it writes. */
export function runCli(args: string[], now?: Date): CliResult {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = main(args, now);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
