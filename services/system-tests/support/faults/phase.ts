import { setTimeout as sleep } from "node:timers/promises";
import type { EffectsProbe, EffectsSnapshot } from "./effects";
import { emptyTally, OpenLoad, type WriteKind } from "./load";
import { CATCH_UP_GOAL_S, type FaultRow } from "./report";

/** A fault the suite injects under load. */
export interface Fault {
  readonly name: string;
  /** Whether the database itself goes down, the one time 503 with Retry-After is expected. */
  readonly databaseDown: boolean;
  /**
   * Whether an email may arrive again under its first Message-ID: notification-service dies while
   * sending, or its SMTP connection is cut after the server accepted a message but before its reply
   * arrived (SMTP cannot tell the sender which happened, so it sends again).
   */
  readonly mayResend: boolean;
  /**
   * Breaks something, holds the fault, and undoes it: returns when the undoing has begun (a
   * process restarted, a server listening again), with what is still finishing in the background.
   */
  inject(): Promise<{ readonly endedAt: number; readonly recovering: Promise<unknown> }>;
}

export interface PhaseSettings {
  /** Writes per second for each kind of write. */
  readonly ratePerKind: number;
  /** Load before the fault, so it hits a flow in full swing. */
  readonly warmUpMs: number;
  /** Load kept up after the fault ends, so recovery happens under load too. */
  readonly cooldownMs: number;
  /** How long past the catch-up goal the probe keeps looking before it counts writes as lost. */
  readonly graceMs: number;
}

/**
 * Runs one fault under steady load and measures it: the clients' tally, writes whose effects
 * never appeared, doubled side effects, and how long after the fault ended every write committed
 * before that moment had its effects.
 */
export async function runPhase(
  fault: Fault,
  phase: string,
  kinds: (phase: string) => WriteKind[],
  probe: EffectsProbe,
  settings: PhaseSettings,
  crashes: () => number,
): Promise<FaultRow> {
  const tally = emptyTally();
  const load = new OpenLoad(kinds(phase), settings.ratePerKind, tally);
  load.start();
  let loadStopped: Promise<void> | undefined;
  try {
    await sleep(settings.warmUpMs);
    const { endedAt, recovering } = await fault.inject();
    void recovering.catch(() => undefined);
    const cutoff = new Date(endedAt);
    const deadline = endedAt + CATCH_UP_GOAL_S * 1_000 + settings.graceMs;
    let caughtUpSeconds: number | null = null;
    let last: EffectsSnapshot | undefined;
    let loadDone = false;
    while (Date.now() < deadline) {
      if (!loadStopped && Date.now() >= endedAt + settings.cooldownMs)
        loadStopped = load.stop().then(() => {
          loadDone = true;
        });
      const polledAt = Date.now();
      last = await probe.snapshot(phase, cutoff, tally.acceptedKeys).catch(() => last);
      if (last && caughtUpSeconds === null && last.missingBefore === 0 && last.committed > 0)
        caughtUpSeconds = (polledAt - endedAt) / 1_000;
      if (loadDone && caughtUpSeconds !== null && last?.missing === 0) break;
      await sleep(500);
    }
    await (loadStopped ?? load.stop());
    // A fault that could not be undone (a broker that would not start) fails the phase loudly.
    await recovering;
    const final = await probe.snapshot(phase, cutoff, tally.acceptedKeys);
    return {
      fault: fault.name,
      databaseDown: fault.databaseDown,
      mayResend: fault.mayResend,
      tally,
      lost: final.missing,
      lostByEffect: final.missingByEffect,
      duplicateOrders: final.duplicateOrders,
      duplicateNotifications: final.duplicateNotifications,
      duplicateEmails: final.duplicateEmails,
      resentEmails: final.resentEmails,
      caughtUpSeconds,
      crashes: crashes(),
    };
  } finally {
    await (loadStopped ?? load.stop());
  }
}
