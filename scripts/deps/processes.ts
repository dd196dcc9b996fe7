import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { withProgress } from "./progress";

/** A process this tooling started, identified by its pid file and a marker in its command line. */
export interface OwnedProcess {
  readonly pidFile: string;
  /** A string (usually a config path) that only our process has in its command line. */
  readonly marker: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The command line of `pid`, arguments joined by spaces; empty when it cannot be read. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    // No /proc on macOS; ps tells the same there.
    return spawnSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" }).stdout ?? "";
  }
}

/**
 * The pid of our running process, or undefined. A pid file whose process is gone, or whose pid
 * now belongs to another program, is stale and removed: we never signal what we did not start.
 */
export function runningPid(owned: OwnedProcess): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(owned.pidFile, "utf8").split("\n")[0] ?? "", 10);
  } catch {
    return undefined;
  }
  if (Number.isInteger(pid) && isAlive(pid) && commandLine(pid).includes(owned.marker)) return pid;
  fs.rmSync(owned.pidFile, { force: true });
  return undefined;
}

export async function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Names the program holding a port, when `ss` can tell, for error messages. */
export function portHolder(port: number): string {
  const result = spawnSync("ss", ["-H", "-ltnp", `sport = :${port}`], { encoding: "utf8" });
  const match = result.stdout?.match(/users:\(\("([^"]+)",pid=(\d+)/);
  return match ? `${match[1]} (pid ${match[2]})` : "another process";
}

/** How long a port may stay taken before it counts as held by someone else. */
const PORT_RELEASE_MS = 3_000;

/**
 * Fails naming the holder and the variable that moves the port when `port` is taken. A process
 * killed a moment ago no longer counts as ours but holds its ports until it has fully exited, so a
 * port is given a few seconds to be released first.
 */
export async function assertPortFree(
  what: string,
  host: string,
  port: number,
  envVar: string,
): Promise<void> {
  const deadline = Date.now() + PORT_RELEASE_MS;
  while ((await portInUse(host, port)) && Date.now() < deadline) await sleep(100);
  if (await portInUse(host, port)) {
    throw new Error(
      `${what}: port ${host}:${port} is already taken by ${portHolder(port)}. ` +
        `Stop that process or choose another port with ${envVar}=<port>.`,
    );
  }
}

export interface SpawnOptions {
  readonly logFile: string;
  readonly pidFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Starts a long-running program detached from this process, output to a log file, pid recorded. */
export function spawnDetached(command: string, args: readonly string[], options: SpawnOptions): number {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  fs.mkdirSync(path.dirname(options.pidFile), { recursive: true });
  const log = fs.openSync(options.logFile, "a");
  const child = spawn(command, args, {
    detached: true,
    stdio: ["ignore", log, log],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.unref();
  fs.writeFileSync(options.pidFile, `${child.pid}\n`);
  return child.pid;
}

/** Waits up to `timeoutMs` for `pid` to exit; true when it has. */
export async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

export async function stopPid(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  if (await exited(pid, graceMs)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  await exited(pid, Number.POSITIVE_INFINITY);
}

/** An error's message with its cause's, e.g. fetch's "fetch failed" with the ECONNREFUSED behind it. */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : "";
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}

/** Thrown by a readiness check when waiting longer cannot help, e.g. a rejected password. */
export class GiveUpWaiting extends Error {}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly stillRunning?: () => boolean;
  /** Appended to a failure, e.g. a log tail or the variable to change. */
  readonly describe?: () => string;
}

/**
 * Polls `check` until it returns true, printing progress while it waits. Fails with the last error
 * `check` threw and `describe()` on timeout, or at once when it throws GiveUpWaiting.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const details = () => (options.describe ? `\n${options.describe()}` : "");
  const deadline = Date.now() + options.timeoutMs;
  let lastError = "";
  await withProgress(`waiting for ${what} to be ready`, async () => {
    while (Date.now() < deadline) {
      try {
        if (await check()) return;
      } catch (error) {
        if (error instanceof GiveUpWaiting) throw error;
        lastError = errorMessage(error);
      }
      if (options.stillRunning && !options.stillRunning()) {
        throw new Error(`${what} exited before it was ready.${details()}`);
      }
      await sleep(options.intervalMs ?? 250);
    }
    throw new Error(
      `${what} was not ready after ${options.timeoutMs / 1000}s${lastError ? ` (last error: ${lastError})` : ""}.${details()}`,
    );
  });
}

/**
 * Whether our running instance (`ours()` gives its pid) can be reused: it answers `ready` within
 * `timeoutMs`. One that exits while we wait, e.g. killed a moment ago and not yet gone, cannot: the
 * caller then starts a new one instead of failing on the dying one.
 */
export async function reusable(
  what: string,
  ours: () => number | undefined,
  ready: () => Promise<boolean>,
  options: Pick<WaitOptions, "timeoutMs" | "describe">,
): Promise<boolean> {
  const pid = ours();
  if (pid === undefined) return false;
  try {
    await waitUntil(what, ready, { ...options, stillRunning: () => ours() === pid });
    return true;
  } catch (error) {
    if (ours() !== pid) return false;
    throw error;
  }
}

export function tail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return `Last lines of ${file}:\n${text.slice(-lines).join("\n")}`;
  } catch {
    return `(no log at ${file})`;
  }
}
