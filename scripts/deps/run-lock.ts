import fs from "node:fs";
import path from "node:path";
import { commandLine, isAlive } from "./processes";

/** Lock files this process holds; released when it exits, however it exits short of a crash. */
const held = new Set<string>();
process.on("exit", () => {
  for (const file of held) releaseFile(file);
});

export class RunLockedError extends Error {}

function lockFile(runDir: string): string {
  return path.join(runDir, "deps.lock");
}

/** The pid in a lock file and the command it was written by, or undefined when there is none. */
function holder(file: string): { pid: number; command: string } | undefined {
  try {
    const [pid, command = ""] = fs.readFileSync(file, "utf8").split("\n");
    return { pid: Number(pid), command };
  } catch {
    return undefined;
  }
}

/**
 * Makes this process the only run that starts and stops the dependencies in `runDir`'s local
 * folder: two at once would race on initdb and on formatting Kafka's storage, and one could stop
 * what the other uses. Held until `releaseRunLock` or this process ends; a lock whose process is
 * gone is taken over. Taking it again in the same process is a no-op.
 */
export function acquireRunLock(runDir: string): void {
  const file = lockFile(runDir);
  if (held.has(file)) return;
  fs.mkdirSync(runDir, { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n${commandLine(process.pid).trim()}\n`, { flag: "wx" });
      held.add(file);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const other = holder(file);
    if (other !== undefined && Number.isInteger(other.pid) && isAlive(other.pid)) {
      throw new RunLockedError(
        `another run (pid ${other.pid}: ${other.command || "unknown command"}) is starting or using the dependencies in ${path.dirname(runDir)}. Wait for it to finish or stop it, then retry; to run both at once, give one its own BLUEPRINT_LOCAL_DIR and ports.`,
      );
    }
    // Left by a run that was killed: its process is gone.
    fs.rmSync(file, { force: true });
  }
}

export function releaseRunLock(runDir: string): void {
  releaseFile(lockFile(runDir));
}

function releaseFile(file: string): void {
  if (!held.delete(file)) return;
  if (holder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
}
