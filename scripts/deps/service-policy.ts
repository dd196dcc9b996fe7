import fs from "node:fs";
import { isAlive } from "./processes";

/** Debian's hook that package scripts ask before starting a service; exit 101 means "do not". */
export const POLICY_RC = "/usr/sbin/policy-rc.d";

/** Marks a policy-rc.d as ours, with the pid of the run that wrote it. */
const MARKER = "# written by blueprint scripts/deps while it installs packages; pid";

function ownerPid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.match(new RegExp(`^${MARKER} (\\d+)$`, "m"))?.[1]);
  return Number.isInteger(pid) ? pid : undefined;
}

/**
 * Removes a policy-rc.d we left behind (ours, and the run that wrote it is gone): while it exists,
 * no package's service starts on install anywhere on the machine. Another one is never touched.
 */
export function removeStaleServicePolicy(file: string = POLICY_RC): void {
  const pid = ownerPid(file);
  if (pid !== undefined && !isAlive(pid)) fs.rmSync(file, { force: true });
}

/**
 * Runs `work` (apt-get) with package services kept from starting, so the system's own PostgreSQL or
 * Prometheus never takes the ports our instances use. The policy file is removed afterwards, also
 * when a signal interrupts; one already there that is not ours is used as it is and left alone.
 */
export function withServiceStartsSuppressed<T>(work: () => T, file: string = POLICY_RC): T {
  removeStaleServicePolicy(file);
  if (fs.existsSync(file)) return work();
  const remove = () => {
    if (ownerPid(file) === process.pid) fs.rmSync(file, { force: true });
  };
  // Without a listener a signal ends Node at once, even inside spawnSync, and the file would stay.
  // With one, apt-get (in the same process group) ends, the finally below removes the file, and
  // the signal is passed on the way Node's default would have ended us, unless others listen.
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.once(signal, onSignal);
  try {
    fs.writeFileSync(file, `#!/bin/sh\n${MARKER} ${process.pid}\nexit 101\n`, { mode: 0o755 });
    return work();
  } finally {
    remove();
    // A signal that came during a synchronous `work` is dispatched at the next turn of the event
    // loop; the listeners stay until then so it is not dropped.
    setTimeout(() => {
      for (const signal of signals) process.off(signal, onSignal);
    }, 100);
  }
}
