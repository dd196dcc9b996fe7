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

/** Linux reports process CPU time in these ticks (USER_HZ, 100 on every mainstream kernel build). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) `pid` has used so far, in seconds; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the parenthesised command name (which may itself hold spaces): utime is the 12th, stime the 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The highest resident memory `pid` has had since it started (VmHWM), in MiB; 0 once it is gone. */
export function peakRssMiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Starts `pid`'s peak RSS afresh (`VmHWM` := current RSS), so that a later `peakRssMiB` is the peak
 * since now. False where the kernel refuses (another user's process).
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** CPU time by process of `pid` and every descendant alive now (a PostgreSQL server and its backends), in seconds. */
export function treeCpuSeconds(pid: number, into = new Map<number, number>()): Map<number, number> {
  into.set(pid, cpuSeconds(pid));
  for (const child of childrenOf(pid)) treeCpuSeconds(child, into);
  return into;
}

/**
 * CPU a process tree used between two `treeCpuSeconds` snapshots, in seconds: processes that started
 * in between count from zero; those that ended are left out (a backend closing takes its time along).
 */
export function treeCpuDelta(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += Math.max(0, seconds - (before.get(pid) ?? 0));
  return sum;
}

/**
 * Share of the last 10 s in which some runnable task waited for a CPU (Linux pressure stall
 * information), in percent; undefined where the kernel does not report it. High values mean the
 * cores were oversubscribed, by this run or by neighbours.
 */
export function cpuPressurePercent(): number | undefined {
  try {
    const match = /some avg10=([\d.]+)/.exec(fs.readFileSync("/proc/pressure/cpu", "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The parent of `pid`, or undefined once it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}
