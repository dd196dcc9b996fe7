import fs from "node:fs";
import path from "node:path";

/** A memory cgroup for one benchmarked process: what its launcher writes its pid to, and its removal. */
export interface MemoryCgroup {
  readonly limitMiB: number;
  /** Command and arguments that put the process in the cgroup and then run `command args...` in it. */
  launcher(command: string, args: readonly string[]): { command: string; args: string[] };
  remove(): void;
}

/** This process's memory cgroup directory: v1 (`memory` controller) or v2 (unified), if the hierarchy is mounted. */
function ownMemoryCgroup(): { dir: string; limitFile: string } | undefined {
  const lines = fs.readFileSync("/proc/self/cgroup", "utf8").split("\n");
  const v1 = lines.map((l) => /^\d+:memory:(.*)$/.exec(l)?.[1]).find((p) => p !== undefined);
  if (v1 !== undefined && fs.existsSync("/sys/fs/cgroup/memory")) {
    return { dir: path.join("/sys/fs/cgroup/memory", v1), limitFile: "memory.limit_in_bytes" };
  }
  const v2 = lines.map((l) => /^0::(.*)$/.exec(l)?.[1]).find((p) => p !== undefined);
  if (v2 !== undefined && fs.existsSync("/sys/fs/cgroup/cgroup.controllers")) {
    return { dir: path.join("/sys/fs/cgroup", v2), limitFile: "memory.max" };
  }
  return undefined;
}

/**
 * A child memory cgroup limited to `limitMiB`, as a container's memory limit: Node sizes V8's heap
 * from it (`process.constrainedMemory()`), so a service measured in it has the heap it has in its
 * task or pod. Where one cannot be made (no root, or a cgroup v2 memory controller not delegated), the reason.
 */
export function memoryCgroup(name: string, limitMiB: number): MemoryCgroup | { reason: string } {
  const own = ownMemoryCgroup();
  if (!own) return { reason: "no memory cgroup hierarchy is mounted" };
  const dir = path.join(own.dir, `bench-${name}-${process.pid}`);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, own.limitFile), String(limitMiB * 1024 * 1024));
  } catch (error) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // Never made, or the kernel keeps it; nothing else to undo.
    }
    return { reason: `cannot create ${dir}: ${(error as Error).message}` };
  }
  const procs = path.join(dir, "cgroup.procs");
  return {
    limitMiB,
    launcher: (command, args) => ({
      command: "/bin/sh",
      // The shell joins the cgroup and becomes the process (exec), keeping its pid.
      args: ["-c", 'echo $$ > "$0" && exec "$@"', procs, command, ...args],
    }),
    remove: () => {
      try {
        fs.rmdirSync(dir);
      } catch {
        // Still holds a process that outlived its stop; the cgroup goes with the container.
      }
    },
  };
}
