/** The numbers the benchmark derives from its samples: percentiles, best-of-N, the ratio and the knee. */

/** The `p`th percentile (nearest rank) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** One closed-loop run of one server. */
export interface LoadRun {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * The run that best shows what the server can do: the highest rate. On a shared machine the worse
 * runs measure the neighbours as much as the server, so best-of-N, with the spread reported beside it.
 */
export function bestOf<R extends LoadRun>(runs: readonly R[]): R {
  const best = runs.reduce<R | undefined>((a, b) => (a === undefined || b.rps > a.rps ? b : a), undefined);
  if (!best) throw new Error("bestOf needs at least one run");
  return best;
}

/** Spread of the runs' rates around their best, in percent: how noisy the machine was. */
export function spreadPercent(runs: readonly LoadRun[]): number {
  const rates = runs.map((r) => r.rps);
  const best = Math.max(...rates);
  return best > 0 ? ((best - Math.min(...rates)) / best) * 100 : 0;
}

/** `ours / reference`, both best-of-N rates measured in the same run. */
export function throughputRatio(ours: LoadRun, reference: LoadRun): number {
  if (!(reference.rps > 0)) throw new Error(`the reference server served nothing (${reference.rps} req/s)`);
  return ours.rps / reference.rps;
}

/** One step of the open-model end-to-end run. */
export interface RateStep {
  /** Arrival rate asked for, users/s. */
  readonly rate: number;
  /** Arrival rate achieved by the load generator, users/s. */
  readonly achieved: number;
  /** Request to notification recorded, ms. */
  readonly p50: number;
  readonly p99: number;
  /** Users created whose notification was never recorded. */
  readonly lost: number;
  /** Requests that did not get 201. */
  readonly failed: number;
  /** Highest consumer lag seen during the step, messages. */
  readonly maxLag: number;
}

export interface KneeLimits {
  /** @default 1000 */
  readonly p99Ms?: number;
}

/**
 * True when a step meets the end-to-end objective: the load generator reached the rate (95 %),
 * p99 within the limit, nothing lost or refused.
 */
export function stepHolds(step: RateStep, limits: KneeLimits = {}): boolean {
  return (
    step.achieved >= 0.95 * step.rate &&
    step.p99 <= (limits.p99Ms ?? 1000) &&
    step.lost === 0 &&
    step.failed === 0
  );
}

/**
 * The knee: the highest rate whose step, and every step below it, meets the objective; undefined
 * when even the lowest does not. Steps above a failing one do not count (a lucky step past the
 * breaking point is noise, not capacity).
 */
export function kneeOf<S extends RateStep>(steps: readonly S[], limits: KneeLimits = {}): S | undefined {
  let knee: S | undefined;
  for (const step of [...steps].sort((a, b) => a.rate - b.rate)) {
    if (!stepHolds(step, limits)) break;
    knee = step;
  }
  return knee;
}
