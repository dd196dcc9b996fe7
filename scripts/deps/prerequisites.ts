import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export class PrerequisiteError extends Error {}

export function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

let aptUpdated = false;
const POLICY_RC = "/usr/sbin/policy-rc.d";

/**
 * Installs Debian packages when running as root; otherwise fails with the exact command to run.
 * Package maintainer scripts are told not to start their system services (policy-rc.d exit 101),
 * because this tooling runs its own instances on its own data directories.
 */
export function aptInstall(packages: readonly string[], reason: string): void {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (!which("apt-get")) {
    throw new PrerequisiteError(
      `${reason}, and apt-get is not available. Install ${packages.join(", ")} with your OS package manager.`,
    );
  }
  if (!isRoot()) {
    throw new PrerequisiteError(`${reason}. Install it with: sudo sh -c '${command}'`);
  }
  console.log(`installing ${packages.join(", ")} from Debian packages (${reason})`);
  const addedPolicy = !fs.existsSync(POLICY_RC);
  if (addedPolicy) fs.writeFileSync(POLICY_RC, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    if (!aptUpdated) {
      run("apt-get", ["update", "-q"], env);
      aptUpdated = true;
    }
    run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...packages], env);
  } finally {
    if (addedPolicy) fs.rmSync(POLICY_RC, { force: true });
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"], env });
  if (result.status !== 0) {
    throw new PrerequisiteError(`${command} ${args.join(" ")} failed with exit code ${result.status}`);
  }
}

/** The installed Java major version, or undefined when `java` is missing. */
export function javaMajorVersion(): number | undefined {
  if (!which("java")) return undefined;
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  const match = `${result.stderr}${result.stdout}`.match(/version "(\d+)(?:\.(\d+))?/);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}
