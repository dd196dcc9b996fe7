import { Alertmanager } from "./alertmanager";
import type { Dependency } from "./dependency";
import { externalDependencies } from "./external";
import { KafkaBroker } from "./kafka";
import { Postgres } from "./postgres";
import { isRoot } from "./prerequisites";
import { secondsSince } from "./progress";
import { Prometheus } from "./prometheus";
import { acquireRunLock, releaseRunLock } from "./run-lock";
import { removeStaleServicePolicy } from "./service-policy";
import type { LocalSettings } from "./settings";
import { Zipkin } from "./zipkin";

/** The warning about ignored variables is given once per process, however often this is called. */
let warnedIgnored = false;

/**
 * PostgreSQL, Kafka, Alertmanager, Prometheus and Zipkin in start order (they stop in reverse): our own instances, or
 * with BLUEPRINT_DEPS=external the ones already running at the configured addresses. In local
 * mode, external-mode variables set in the environment are named in a warning: they point nowhere.
 */
export function localDependencies(
  settings: LocalSettings,
  warn: (line: string) => void = console.warn,
): Dependency[] {
  if (settings.mode === "external") return externalDependencies(settings);
  if (settings.ignoredVariables.length > 0 && !warnedIgnored) {
    warnedIgnored = true;
    warn(
      `warning: ${settings.ignoredVariables.join(", ")} ${settings.ignoredVariables.length === 1 ? "is" : "are"} set but ignored unless BLUEPRINT_DEPS=external; the local instances on ${settings.host} are used.`,
    );
  }
  return [
    new Postgres(settings),
    new KafkaBroker(settings),
    new Alertmanager(settings),
    new Prometheus(settings),
    new Zipkin(settings),
  ];
}

/** The run-lock folders of the managed dependencies among `deps`. */
function runDirs(deps: readonly Dependency[]): string[] {
  return [...new Set(deps.flatMap((d) => (d.managed && d.runDir !== undefined ? [d.runDir] : [])))];
}

/** Raised when a dependency fails to start; `started` lists what this call had started, to stop it. */
export class DependencyStartError extends Error {
  constructor(
    message: string,
    readonly started: readonly Dependency[],
  ) {
    super(message);
  }
}

/** Starts each dependency; returns the ones this call started (the others were already running). */
export async function upAll(
  deps: readonly Dependency[],
  log: (line: string) => void = console.log,
): Promise<Dependency[]> {
  for (const dir of runDirs(deps)) acquireRunLock(dir);
  // A policy-rc.d an interrupted install left behind keeps every package's service from starting.
  if (isRoot()) removeStaleServicePolicy();
  const started: Dependency[] = [];
  for (const dep of deps) {
    const began = Date.now();
    const wasRunning = dep.runningPid() !== undefined;
    try {
      if (await dep.up()) started.push(dep);
    } catch (error) {
      // A process that started but never became ready is still ours to stop.
      if (!wasRunning && dep.runningPid() !== undefined) started.push(dep);
      throw new DependencyStartError(
        `${dep.name} ${dep.managed ? "failed to start" : "is not usable"}: ${error instanceof Error ? error.message : String(error)}`,
        started,
      );
    }
    const seconds = secondsSince(began);
    const outcome = !dep.managed
      ? `external, ready and provisioned in ${seconds}s`
      : wasRunning
        ? "already running, reused"
        : `started in ${seconds}s`;
    log(`${dep.name.padEnd(11)} ${outcome} on ${dep.address}`);
  }
  return started;
}

/**
 * The managed dependencies that run now but did not when `before` was taken: what an upAll
 * interrupted (Ctrl-C) had started, including one started but not yet ready.
 */
export function startedSince(deps: readonly Dependency[], before: ReadonlySet<Dependency>): Dependency[] {
  return deps.filter((d) => d.managed && !before.has(d) && d.runningPid() !== undefined);
}

/**
 * Stops each dependency in reverse start order. Ends the run the lock of upAll began: a run still
 * holding it elsewhere makes this fail rather than stop what that run uses.
 */
export async function downAll(
  deps: readonly Dependency[],
  log: (line: string) => void = console.log,
): Promise<void> {
  const dirs = runDirs(deps);
  for (const dir of dirs) acquireRunLock(dir);
  try {
    for (const dep of [...deps].reverse()) {
      const pid = dep.runningPid();
      await dep.down();
      const outcome = !dep.managed
        ? "external, left running"
        : pid === undefined
          ? "was not running"
          : `stopped (pid ${pid})`;
      log(`${dep.name.padEnd(11)} ${outcome}`);
    }
  } finally {
    for (const dir of dirs) releaseRunLock(dir);
  }
}
