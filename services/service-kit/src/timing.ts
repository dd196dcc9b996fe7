/**
 * Exponential backoff with "equal jitter": attempt n waits between half and all of
 * min(maxMs, baseMs * 2^(n-1)), so delays grow while retries of many workers spread out.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A sleep that `wake` ends early; used by loops that must react to new work or to shutdown at once. */
export class Waker {
  private pending: (() => void) | undefined;
  private signalled = false;

  /** Ends the current sleep, or the next one if none is in progress. */
  wake(): void {
    this.signalled = true;
    this.pending?.();
  }

  /** Sleeps up to `ms`; resolves true when woken. */
  sleep(ms: number): Promise<boolean> {
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve(false);
      }, ms);
      this.pending = () => {
        clearTimeout(timer);
        this.pending = undefined;
        this.signalled = false;
        resolve(true);
      };
    });
  }
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
