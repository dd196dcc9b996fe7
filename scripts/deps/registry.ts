import type { Dependency } from "./dependency";
import { externalDependencies } from "./external";
import { KafkaBroker } from "./kafka";
import { Postgres } from "./postgres";
import { secondsSince } from "./progress";
import { Prometheus } from "./prometheus";
import type { LocalSettings } from "./settings";

/**
 * PostgreSQL, Kafka and Prometheus in start order (they stop in reverse): our own instances, or
 * with BLUEPRINT_DEPS=external the ones already running at the configured addresses.
 */
export function localDependencies(settings: LocalSettings): Dependency[] {
  if (settings.mode === "external") return externalDependencies(settings);
  return [new Postgres(settings), new KafkaBroker(settings), new Prometheus(settings)];
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

export async function downAll(
  deps: readonly Dependency[],
  log: (line: string) => void = console.log,
): Promise<void> {
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
}
