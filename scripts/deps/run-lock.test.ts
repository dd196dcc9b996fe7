import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Dependency } from "./dependency";
import { downAll, upAll } from "./registry";
import { acquireRunLock, RunLockedError, releaseRunLock } from "./run-lock";

const scratch: string[] = [];
const children: ChildProcess[] = [];

function runDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-lock-"));
  scratch.push(dir);
  return path.join(dir, "run");
}

/** Another run in the same local folder: a process holding the lock until it is killed. */
async function otherRun(dir: string): Promise<ChildProcess> {
  const module = path.join(__dirname, "run-lock.ts");
  const script = `require(${JSON.stringify(module)}).acquireRunLock(${JSON.stringify(dir)}); setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: "ignore" });
  children.push(child);
  const lock = path.join(dir, "deps.lock");
  const began = Date.now();
  const holder = () => (fs.existsSync(lock) ? fs.readFileSync(lock, "utf8") : "");
  while (!holder().startsWith(`${child.pid}\n`)) {
    if (Date.now() - began > 20_000) throw new Error("the other run never took the lock");
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

function dependency(dir: string): Dependency {
  return {
    name: "postgres",
    address: "127.0.0.1:1",
    managed: true,
    runDir: dir,
    runningPid: () => undefined,
    up: async () => true,
    down: async () => undefined,
  };
}

describe("one run per local folder", () => {
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("When another run holds the folder, then up and down fail at once naming its pid, and start nothing", async () => {
    const dir = runDir();
    const other = await otherRun(dir);
    let started = false;
    const dep = { ...dependency(dir), up: async () => (started = true) };

    await expect(upAll([dep], () => undefined)).rejects.toThrow(
      new RegExp(`^another run \\(pid ${other.pid}: .*\\) is starting or using the dependencies in `),
    );
    await expect(downAll([dep], () => undefined)).rejects.toThrow(RunLockedError);
    expect(started).toBe(false);
  });

  it("When the run that held the folder was killed, then the next run takes it over", async () => {
    const dir = runDir();
    const other = await otherRun(dir);
    const exited = new Promise((resolve) => other.once("exit", resolve));
    other.kill("SIGKILL");
    await exited;

    expect(await upAll([dependency(dir)], () => undefined)).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, "deps.lock"), "utf8")).toMatch(new RegExp(`^${process.pid}\\n`));
    await downAll([dependency(dir)], () => undefined);
    expect(fs.existsSync(path.join(dir, "deps.lock"))).toBe(false);
  });

  it("When one process takes the lock again, then it still holds it, and releasing frees it for others", () => {
    const dir = runDir();
    acquireRunLock(dir);
    acquireRunLock(dir);
    releaseRunLock(dir);
    expect(fs.existsSync(path.join(dir, "deps.lock"))).toBe(false);
  });
});
