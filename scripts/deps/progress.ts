/** How often a long step reports that it is still going. */
export const PROGRESS_INTERVAL_MS = 5_000;

/**
 * Runs `work`, printing `<what>... <N>s` every few seconds until it settles, so downloads and
 * waits of a minute or more are never silent.
 */
export async function withProgress<T>(
  what: string,
  work: () => Promise<T>,
  log: (line: string) => void = console.log,
  everyMs: number = PROGRESS_INTERVAL_MS,
): Promise<T> {
  const began = Date.now();
  const timer = setInterval(() => log(`${what}... ${Math.round((Date.now() - began) / 1000)}s`), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Seconds since `began` (a Date.now() value), to a tenth. */
export function secondsSince(began: number): number {
  return Math.round((Date.now() - began) / 100) / 10;
}
