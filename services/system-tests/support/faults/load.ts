import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { bearer, tokenFor } from "../auth";

/** What the clients saw during one phase. */
export interface ClientTally {
  /** Logical requests answered 2xx (after any retries). */
  accepted: number;
  /** Their Idempotency-Keys, so the probe can check each was committed. */
  readonly acceptedKeys: Set<string>;
  /** Logical requests that ended without a 2xx (gave up, or a final 4xx/5xx). */
  notAccepted: number;
  /** 503 responses carrying Retry-After (the client waited and retried). */
  unavailableWithRetryAfter: number;
  /** Every other 5xx response, including 503 without Retry-After. */
  otherServerErrors: number;
  /** Attempts that got no response (refused, reset, timed out); the client retried. */
  noResponse: number;
  /** A few example failures, to make a failing row explainable. */
  samples: string[];
}

export const emptyTally = (): ClientTally => ({
  accepted: 0,
  acceptedKeys: new Set(),
  notAccepted: 0,
  unavailableWithRetryAfter: 0,
  otherServerErrors: 0,
  noResponse: 0,
  samples: [],
});

/** One kind of write the load sends: where, and the body for a request key. */
export interface WriteKind {
  readonly url: () => string;
  readonly body: (key: string) => unknown;
}

/** Generous: on a busy 2-core machine a healthy answer can take seconds, and each retry risks a duplicate. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** A client gives up on a write after this long; longer than any fault the suite injects. */
const GIVE_UP_MS = 60_000;
const RETRY_AFTER_CAP_S = 5;

function note(tally: ClientTally, sample: string): void {
  if (tally.samples.length < 5) tally.samples.push(sample);
}

/**
 * One logical write as a careful client makes it: one Idempotency-Key for every attempt; retries
 * when there is no response and on 503, waiting Retry-After when given; any other answer is final.
 */
async function write(kind: WriteKind, key: string, tally: ClientTally): Promise<void> {
  const body = JSON.stringify(kind.body(key));
  const giveUpAt = Date.now() + GIVE_UP_MS;
  let backoffMs = 100;
  while (Date.now() < giveUpAt) {
    let res: Response;
    let answer: string;
    try {
      res = await fetch(kind.url(), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "idempotency-key": key,
          authorization: bearer(tokenFor("fault-load", ["users:write", "orders:write"])),
        },
        body,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      answer = await res.text();
    } catch {
      tally.noResponse += 1;
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 1_000);
      continue;
    }
    if (res.status >= 200 && res.status < 300) {
      tally.accepted += 1;
      tally.acceptedKeys.add(key);
      return;
    }
    const retryAfter = res.headers.get("retry-after");
    if (res.status >= 500) {
      if (res.status === 503 && retryAfter !== null) tally.unavailableWithRetryAfter += 1;
      else {
        tally.otherServerErrors += 1;
        note(tally, `${res.status} ${answer.slice(0, 120)}`);
      }
    }
    if (res.status !== 503) {
      tally.notAccepted += 1;
      if (res.status < 500) note(tally, `${res.status} ${answer.slice(0, 120)}`);
      return;
    }
    const waitS = Number(retryAfter);
    await sleep(Number.isFinite(waitS) && waitS > 0 ? Math.min(waitS, RETRY_AFTER_CAP_S) * 1_000 : backoffMs);
  }
  tally.notAccepted += 1;
  note(tally, `gave up after ${GIVE_UP_MS} ms on ${kind.url()}`);
}

/**
 * An open-model load: each kind gets `rate` new writes per second whether or not earlier ones
 * have finished, as independent users would send them. Arrivals follow the wall clock, so a busy
 * event loop sends the ones it fell behind on at its next tick rather than fewer. `stop` ends the
 * arrivals and waits for the writes in flight to finish.
 */
export class OpenLoad {
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kinds: readonly WriteKind[],
    private readonly ratePerKind: number,
    readonly tally: ClientTally,
  ) {}

  start(): void {
    const startedAt = Date.now();
    let sent = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - startedAt) / 1_000) * this.ratePerKind);
      for (; sent < due; sent++) {
        for (const kind of this.kinds) {
          const running = write(kind, randomUUID(), this.tally);
          this.inFlight.add(running);
          void running.finally(() => this.inFlight.delete(running));
        }
      }
    }, 10);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
  }
}
