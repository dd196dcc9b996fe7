import { spawn } from "node:child_process";
import fs from "node:fs";

export interface ProcessRun {
  readonly exitCode: number;
  readonly wallSeconds: number;
  /** Peak of the summed resident memory of the process and its descendants, sampled every 10 ms. */
  readonly peakRssMiB: number;
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function treeRssKiB(pid: number): number {
  return rssKiB(pid) + childrenOf(pid).reduce((sum, child) => sum + treeRssKiB(child), 0);
}

/** Runs a command to completion in `cwd`, measuring wall time and the peak memory of its whole process tree. */
export function measure(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid) peak = Math.max(peak, treeRssKiB(child.pid));
    }, 10);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearInterval(timer);
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) process.stderr.write(stderr);
      resolve({ exitCode: code ?? 1, wallSeconds, peakRssMiB: peak / 1024 });
    });
  });
}
