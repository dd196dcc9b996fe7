import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@blueprint/service-kit";
import {
  backoffDelay,
  continueSpan,
  SERVICE_METRICS,
  type ServiceMetrics,
  SpanKind,
  traceIdFrom,
  Waker,
} from "@blueprint/service-kit";
import type { ClaimedNotification, NotificationRepository } from "../data-access/notification-repository";
import { ClaimLease } from "./claim-lease";
import { NOTIFICATION_TYPES, type NotificationStatus } from "./notifications";

const LINGER_MS = 10;

/** The SMTP server refused the email for good (a 5xx reply): sending it again would get the same answer. */
export class MailRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MailRejected";
  }
}

/**
 * Sends one email whose Message-ID derives from `notificationId`, so every attempt of one
 * notification carries the same one and receivers can drop duplicates. Rejects with MailRejected
 * on a permanent refusal, with any other error when the attempt may succeed later.
 */
export interface Mailer {
  send(message: {
    notificationId: string;
    to: string;
    subject: string;
    text: string;
    headers: Record<string, string>;
  }): Promise<void>;
  /** How many emails it sends at once. */
  readonly concurrency: number;
  close(): void;
}

export interface DeliveryOptions {
  readonly repository: NotificationRepository;
  readonly mailer: Mailer;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Transient failures are retried until a notification has been undelivered this long. */
  readonly giveUpAfterSeconds: number;
  /**
   * How long a claim outlives its worker: a live worker renews it while sending, so this bounds how
   * late the emails of a worker that died are sent by another, not how long a send may take.
   */
  readonly leaseSeconds: number;
}

/** The statuses an attempt ends in, each a `status` of `notifications_total`. */
const ATTEMPT_STATUSES = ["sent", "retrying", "failed"] as const satisfies readonly NotificationStatus[];
type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

type Outcome = { readonly sent: true } | { readonly sent: false; readonly error: unknown };

/**
 * Delivers recorded notifications over SMTP, apart from Kafka consumption so that a slow or absent
 * SMTP server never holds up events. Each attempt is claimed (`sending`, leased, with a token)
 * before the email goes out and its outcome recorded after, under that token:
 * - a failure to record the outcome is retried while the lease lasts, never answered by sending again;
 * - a worker that dies mid-send leaves its claims to lapse; they are claimed again and sent with the
 *   same Message-ID (at least once: an email accepted just before the death arrives twice, and
 *   receivers that de-duplicate by Message-ID drop the second);
 * - connection errors and 4xx replies are retried with capped backoff until the notification is
 *   older than `giveUpAfterSeconds`; 5xx replies fail it at once with the server's reason;
 * - a worker whose lease ended cannot overwrite what was recorded since.
 */
export class DeliveryWorker {
  private readonly waker = new Waker();
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly outcomes;

  constructor(private readonly options: DeliveryOptions) {
    this.outcomes = options.metrics.serviceMetric(SERVICE_METRICS.notifications);
    // Every outcome series exists from the start, so the first failure or retry is an increase alerts see.
    for (const type of NOTIFICATION_TYPES) {
      for (const status of ATTEMPT_STATUSES) this.outcomes.inc({ type, status }, 0);
    }
  }

  start(): void {
    this.stopping = false;
    this.running = this.loop();
  }

  /** Notifications were recorded: deliver now rather than at the next poll. */
  wake(): void {
    this.waker.wake();
  }

  /** Finishes the batch in flight; what is still due stays for the next start or another replica. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.waker.wake();
    await this.running;
    this.options.mailer.close();
  }

  /** Claims one batch and attempts it; returns how many it claimed. */
  async deliverBatch(): Promise<number> {
    const { repository, batchSize, leaseSeconds, logger, mailer, giveUpAfterSeconds } = this.options;
    const givenUp = await repository.failLapsedPastAge(giveUpAfterSeconds);
    for (const type of givenUp) this.outcomes.inc({ type, status: "failed" });
    if (givenUp.length > 0)
      logger.error(
        { count: givenUp.length },
        "emails given up: their worker kept stopping while sending them",
      );
    const claimSentAt = Date.now();
    const due = await repository.claimDue(batchSize, leaseSeconds);
    if (due.length === 0) return 0;
    const resumed = due.filter((n) => n.resumed).length;
    if (resumed > 0)
      logger.warn(
        { count: resumed },
        "resending emails whose previous attempt stopped mid-send (same Message-ID, receivers can drop a duplicate)",
      );
    const lease = new ClaimLease(repository, due, leaseSeconds, logger, claimSentAt);
    const unsent: ClaimedNotification[] = [];
    try {
      // Sends start only while the lease is known to hold, so no more than the mailer's
      // connections are in flight when the process dies.
      const queue = [...due];
      const sender = async () => {
        for (let n = queue.shift(); n; n = queue.shift()) if (!(await this.attempt(n, lease))) unsent.push(n);
      };
      await Promise.all(Array.from({ length: Math.min(mailer.concurrency, due.length) }, sender));
    } finally {
      lease.release();
      // Given back rather than left to lapse, so a stopping replica (every rolling deploy) neither
      // delays these emails by a lease nor marks them as possibly delivered.
      await repository
        .releaseClaims(unsent)
        .catch((error: unknown) =>
          logger.warn(
            { err: error, count: unsent.length },
            "giving back unsent claims failed; they lapse with their lease",
          ),
        );
    }
    return due.length;
  }

  /** Sends and records one claimed email; false when it was not handed to SMTP at all. */
  private async attempt(n: ClaimedNotification, lease: ClaimLease): Promise<boolean> {
    // A claim whose lease may end before the send does is not started: nothing was sent.
    if (this.stopping || !lease.holds(n.claim_id)) return false;
    let outcome: Outcome;
    try {
      // The send continues the trace of the handling that recorded the notification.
      await continueSpan(
        "smtp send",
        SpanKind.CLIENT,
        n.trace_context,
        { "notification.id": n.id, "notification.type": n.type, "notification.attempt": n.attempts },
        () =>
          this.options.mailer.send({
            notificationId: n.id,
            to: n.recipient,
            subject: n.subject,
            text: n.body,
            headers: { "X-Notification-Id": n.id, "X-Event-Id": n.event_id },
          }),
      );
      outcome = { sent: true };
    } catch (error) {
      outcome = { sent: false, error };
    }
    const status = await this.record(n, outcome);
    lease.settled(n.claim_id);
    if (status) this.outcomes.inc({ type: n.type, status });
    if (!outcome.sent)
      this.options.logger.warn(
        {
          notification_id: n.id,
          ...traceIdFrom(n.trace_context),
          attempts: n.attempts,
          status,
          err: outcome.error,
        },
        "email not delivered",
      );
    return true;
  }

  /**
   * Records the outcome under the claim, retrying database failures until it is recorded or the
   * worker stops: an email is not sent again because its bookkeeping failed (the claim's renewals
   * keep it this worker's once the database answers again). Undefined when it could not be
   * recorded; a claim left so is attempted again once its lease ends.
   */
  private async record(n: ClaimedNotification, outcome: Outcome): Promise<AttemptStatus | undefined> {
    const { repository, logger, backoffBaseMs, backoffMaxMs, giveUpAfterSeconds } = this.options;
    for (let round = 1; ; round++) {
      try {
        const status = outcome.sent
          ? (await repository.recordSent(n.id, n.claim_id))
            ? "sent"
            : undefined
          : await repository.recordFailure(n.id, n.claim_id, {
              error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
              final: outcome.error instanceof MailRejected,
              retryInMs: backoffDelay(n.attempts, backoffBaseMs, backoffMaxMs),
              giveUpAfterSeconds,
            });
        if (!status)
          logger.warn({ notification_id: n.id }, "outcome not recorded: the claim ended meanwhile");
        return status;
      } catch (error) {
        const wait = backoffDelay(round, 100, 2_000);
        if (this.stopping) {
          logger.error(
            { notification_id: n.id, sent: outcome.sent, err: error },
            "outcome not recorded before stopping; the notification is attempted again when its lease ends",
          );
          return undefined;
        }
        logger.warn({ notification_id: n.id, err: error, round }, "recording the outcome failed; retrying");
        await sleep(wait);
      }
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const attempted = await this.deliverBatch();
        failures = 0;
        if (attempted < this.options.batchSize && (await this.waker.sleep(this.options.pollIntervalMs))) {
          // Woken by new notifications: gather a few more so one claim serves several.
          await sleep(LINGER_MS);
        }
      } catch (error) {
        failures += 1;
        this.options.logger.warn({ err: error }, "delivery loop failed; retrying");
        await this.waker.sleep(backoffDelay(failures, 250, 5_000));
      }
    }
  }
}
