import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@blueprint/service-kit";
import { backoffDelay, SERVICE_METRICS, type ServiceMetrics, Waker } from "@blueprint/service-kit";
import type { DueNotification, NotificationRepository } from "../data-access/notification-repository";

const LINGER_MS = 10;

/** Sends one email; rejects when the SMTP server does not accept it. */
export interface Mailer {
  send(message: {
    to: string;
    subject: string;
    text: string;
    headers: Record<string, string>;
  }): Promise<void>;
  close(): void;
}

export interface DeliveryOptions {
  readonly repository: NotificationRepository;
  readonly mailer: Mailer;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** How long a claimed notification is reserved for one attempt. */
  readonly leaseSeconds: number;
}

/**
 * Delivers recorded notifications over SMTP, apart from Kafka consumption so that a slow or absent
 * SMTP server never holds up events. Failures are retried with backoff and jitter; each attempt's
 * outcome is visible in the notification's status and attempts.
 */
export class DeliveryWorker {
  private readonly waker = new Waker();
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly outcomes;

  constructor(private readonly options: DeliveryOptions) {
    this.outcomes = options.metrics.serviceMetric(SERVICE_METRICS.notifications);
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

  /** Claims and attempts one batch; returns how many notifications it attempted. */
  async deliverBatch(): Promise<number> {
    const { repository, batchSize, leaseSeconds } = this.options;
    const due = await repository.claimDue(batchSize, leaseSeconds);
    await Promise.all(due.map((n) => this.attempt(n)));
    return due.length;
  }

  private async attempt(n: DueNotification): Promise<void> {
    const { repository, mailer, logger, maxAttempts, backoffBaseMs, backoffMaxMs } = this.options;
    try {
      await mailer.send({
        to: n.recipient,
        subject: n.subject,
        text: n.body,
        headers: { "X-Notification-Id": n.id, "X-Event-Id": n.event_id },
      });
      await repository.markSent(n.id);
      this.outcomes.inc({ type: n.type, status: "sent" });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const delay = backoffDelay(n.attempts + 1, backoffBaseMs, backoffMaxMs);
      const status = await repository.markFailed(n.id, message, maxAttempts, delay);
      this.outcomes.inc({ type: n.type, status });
      logger.warn(
        { notification_id: n.id, attempts: n.attempts + 1, status, err: error },
        "email not delivered",
      );
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
