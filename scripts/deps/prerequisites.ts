import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { secondsSince } from "./progress";
import { withServiceStartsSuppressed } from "./service-policy";

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

/** A program a local dependency needs, and how to get it on Debian/Ubuntu and on macOS. */
export interface Prerequisite {
  /** What is needed, e.g. "Maven (fetches Kafka from Maven Central once)". */
  readonly what: string;
  readonly aptPackage: string;
  readonly brewFormula: string;
  /** Homebrew installs it keg-only (versioned formulae such as postgresql@16): not linked onto PATH. */
  readonly brewKegOnly?: boolean;
  /** The variables that point BLUEPRINT_DEPS=external at an instance run some other way. */
  readonly externalVariables: string;
  isPresent(): boolean;
  /** How it falls short when not present, e.g. "too old (...)". @default "missing" */
  state?(): string;
}

/** The exact install commands for a missing prerequisite, and the way around installing it. */
export function missingMessage(prerequisite: Prerequisite): string {
  return [
    `${prerequisite.what} is ${prerequisite.state?.() ?? "missing"}. Install it:`,
    `  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y ${prerequisite.aptPackage}`,
    `  macOS (Homebrew): ${brewInstall(prerequisite)}`,
    `  or use one already running (e.g. docker compose): BLUEPRINT_DEPS=external with ${prerequisite.externalVariables}`,
  ].join("\n");
}

function brewInstall({ brewFormula, brewKegOnly }: Prerequisite): string {
  const install = `brew install ${brewFormula}`;
  return brewKegOnly ? `${install} && export PATH="$(brew --prefix ${brewFormula})/bin:$PATH"` : install;
}

/**
 * Makes sure a prerequisite is present: as root with apt-get it is installed, otherwise this
 * fails with the commands to install it.
 */
export function ensure(prerequisite: Prerequisite): void {
  if (prerequisite.isPresent()) return;
  if (isRoot() && which("apt-get")) {
    aptInstall([prerequisite.aptPackage], `${prerequisite.what} is missing`);
    if (prerequisite.isPresent()) return;
  }
  throw new PrerequisiteError(missingMessage(prerequisite));
}

let aptUpdated = false;

/**
 * Installs Debian packages when running as root; otherwise fails with the exact command to run.
 * Package maintainer scripts are told not to start their system services (policy-rc.d exit 101),
 * because this tooling runs its own instances on its own data directories. apt-get prints its own
 * progress; the closing line gives the time it took.
 */
export function aptInstall(packages: readonly string[], reason: string): void {
  const list = packages.join(" ");
  if (!which("apt-get")) {
    throw new PrerequisiteError(
      `${reason}, and apt-get is not available. Install ${packages.join(", ")} with your OS package manager.`,
    );
  }
  if (!isRoot()) {
    throw new PrerequisiteError(
      `${reason}. Install it with: sudo apt-get update && sudo apt-get install -y ${list}`,
    );
  }
  const began = Date.now();
  console.log(`installing ${list} with apt-get (${reason})`);
  withServiceStartsSuppressed(() => {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    if (!aptUpdated) {
      run("apt-get", ["update", "-q"], env);
      aptUpdated = true;
    }
    run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...packages], env);
  });
  console.log(`installed ${list} in ${secondsSince(began)}s`);
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
