import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Database, PoolClient, Queryable } from "./database";
import { assertContract, type EventEnvelope } from "./events";
import type { MessageProducer, TopicBatch } from "./messaging";
import type { ServiceMetrics } from "./metrics";
import { backoffDelay, Waker, withTimeout } from "./timing";
import { type PublishSpan, publishSpan, traceHeaders } from "./trace-context";

/** One event to publish, written in the same transaction as the state change it describes. */
export interface OutboxMessage {
  /** Logical topic name from the catalog; the relay adds the namespace. */
  readonly topic: string;
  /** Aggregate id. */
  readonly key: string;
  readonly event: EventEnvelope;
  readonly headers?: Readonly<Record<string, string>>;
}

const COLUMNS = "(event_id, topic, message_key, payload, headers)";

/** Parameters of one outbox row, in the order of COLUMNS; the event must meet its contract. */
function rowValues(message: OutboxMessage): unknown[] {
  assertContract(message.event);
  return [
    message.event.event_id,
    message.topic,
    message.key,
    JSON.stringify(message.event),
    JSON.stringify({
      "content-type": "application/json",
      "event-type": message.event.event_type,
      "event-id": message.event.event_id,
      "event-version": String(message.event.version),
      // The request's trace, continued by the relay's publish and by every consumer.
      ...traceHeaders(),
      ...message.headers,
    }),
  ];
}

/**
 * `INSERT INTO outbox ...` for one message with parameters from `$firstParam`, for use inside a
 * larger statement (a CTE that writes the state change and its event in one round trip).
 */
export function outboxInsert(message: OutboxMessage, firstParam: number): { sql: string; values: unknown[] } {
  const values = rowValues(message);
  const placeholders = values.map((_, i) => `$${firstParam + i}`).join(", ");
  return { sql: `INSERT INTO outbox ${COLUMNS} VALUES (${placeholders})`, values };
}

/** Appends messages to the outbox inside the caller's transaction. */
export async function appendToOutbox(client: Queryable, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const values = messages.flatMap(rowValues);
  const width = values.length / messages.length;
  const rows = messages
    .map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(", ")})`)
    .join(", ");
  await client.query(`INSERT INTO outbox ${COLUMNS} VALUES ${rows}`, values);
}

export interface OutboxRelayOptions {
  readonly db: Database;
  readonly producer: MessageProducer;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** Logical topics the service publishes (its catalog entry's `produces`). */
  readonly topics: readonly string[];
  /** Prefix of physical topic names (KAFKA_NAMESPACE). */
  readonly namespace: string;
  readonly batchSize: number;
  /** Poll interval when idle; new rows from this process wake the relay at once. */
  readonly pollIntervalMs: number;
  /** Also wake on `NOTIFY <channel>` from other replicas; costs a round trip and a queue lock per write. */
  readonly notifyChannel?: string;
  /** Wait after a wake-up before publishing, to batch concurrent writes. */
  readonly lingerMs: number;
  /**
   * Rows marked sent (by relays of images from before rows were deleted on publishing, during a
   * rolling deploy) are deleted once older than this.
   */
  readonly retentionMinutes: number;
  /** @default 10000 */
  readonly sendTimeoutMs?: number;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  payload: string;
  headers: Record<string, string>;
}

/**
 * Oldest unsent rows, skipping rows another relay holds (SKIP LOCKED) and rows whose key has an
 * earlier unsent row, so that several relays never reorder one aggregate's events. Exported for the
 * test that checks which indexes serve it.
 */
export const CLAIM_SQL = `
SELECT o.id, o.topic, o.message_key, o.payload, o.headers
  FROM outbox o
 WHERE o.sent_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM outbox p
                    WHERE p.sent_at IS NULL AND p.message_key = o.message_key AND p.id < o.id)
 ORDER BY o.id
 LIMIT $1
   FOR UPDATE SKIP LOCKED`;

const CLEANUP_INTERVAL_MS = 60_000;

/**
 * Publishes outbox rows to Kafka in batches and deletes them, in one transaction per batch:
 * a row is deleted only after every broker in sync acknowledged it, and a crash before the commit
 * leaves it unsent for the next run (at-least-once; consumers de-duplicate by event id).
 */
export class OutboxRelay {
  private readonly waker = new Waker();
  private running: Promise<void> | undefined;
  private stopping = false;
  private failures = 0;
  private lastCleanup = Date.now();
  private listener: PoolClient | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    const { metrics, db } = options;
    // Exposed at 0 from the start, so the first publish is an increase (as the consumers' counters).
    for (const topic of options.topics) metrics.eventsPublished.inc({ topic }, 0);
    metrics.onCollect(async () => {
      const { rows } = await withTimeout(
        db.query<{ backlog: number; age: number }>(
          `SELECT count(*)::int AS backlog,
                  COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
             FROM outbox WHERE sent_at IS NULL`,
        ),
        1_000,
        "outbox backlog query timed out",
      );
      metrics.outboxBacklog.set(rows[0]?.backlog ?? 0);
      metrics.outboxOldestAge.set(rows[0]?.age ?? 0);
    });
  }

  async start(): Promise<void> {
    await this.options.producer.connect();
    if (this.options.notifyChannel) await this.listen(this.options.notifyChannel);
    this.stopping = false;
    this.running = this.loop();
  }

  /**
   * New rows were committed by this process: publish now instead of at the next poll. With a
   * notify channel, relays of other replicas are woken too (outside the write transaction, so the
   * notify queue's lock never sits in a writer's commit).
   */
  written(): void {
    this.waker.wake();
    const channel = this.options.notifyChannel;
    if (channel) void this.options.db.query("SELECT pg_notify($1, '')", [channel]).catch(() => undefined);
  }

  /**
   * Stops polling after the batch in flight; with `drainMs`, first publishes what is pending
   * (rows committed by requests that just finished) for up to that long.
   */
  async stop(drainMs = 0): Promise<void> {
    this.stopping = true;
    this.waker.wake();
    await this.running;
    this.running = undefined;
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline) {
      const sent = await this.publishBatch().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, "outbox drain failed; rows stay for the next start");
        return 0;
      });
      if (sent < this.options.batchSize) break;
    }
    this.listener?.release();
    this.listener = undefined;
    await this.options.producer.disconnect();
  }

  /** Publishes at most one batch; returns how many rows it published. */
  async publishBatch(): Promise<number> {
    const { db, producer, batchSize, namespace, metrics } = this.options;
    return db.transaction(async (client) => {
      const { rows } = await client.query<OutboxRow>(CLAIM_SQL, [batchSize]);
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, TopicBatch["messages"][number][]>();
      const spans: PublishSpan[] = [];
      for (const row of rows) {
        const span = publishSpan(`${namespace}${row.topic}`, row.headers);
        spans.push(span);
        const messages = byTopic.get(row.topic) ?? [];
        messages.push({ key: row.message_key, value: row.payload, headers: span.headers });
        byTopic.set(row.topic, messages);
      }
      await withTimeout(
        producer.send([...byTopic].map(([topic, messages]) => ({ topic: `${namespace}${topic}`, messages }))),
        this.options.sendTimeoutMs ?? 10_000,
        "publishing to Kafka timed out",
      ).then(
        () => {
          for (const span of spans) span.end();
        },
        (error: unknown) => {
          for (const span of spans) span.end(error);
          throw error;
        },
      );
      // Deleted in the claiming transaction, so the table holds only what is unsent however fast it
      // is written; a crash before the commit leaves the rows for the next run, as before.
      await client.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [rows.map((r) => r.id)]);
      for (const [topic, messages] of byTopic) metrics.eventsPublished.inc({ topic }, messages.length);
      return rows.length;
    });
  }

  private async loop(): Promise<void> {
    const { logger, batchSize, pollIntervalMs } = this.options;
    while (!this.stopping) {
      let sent = 0;
      try {
        sent = await this.publishBatch();
        if (this.failures > 0) logger.info({ after: this.failures }, "outbox relay recovered");
        this.failures = 0;
        await this.cleanupIfDue();
      } catch (error) {
        this.failures += 1;
        const delay = backoffDelay(this.failures, 200, 5_000);
        logger.warn(
          { err: error, attempt: this.failures, retry_in_ms: delay },
          "outbox relay failed; retrying",
        );
        await this.waker.sleep(delay);
        continue;
      }
      if (sent < batchSize && (await this.waker.sleep(pollIntervalMs)) && this.options.lingerMs > 0) {
        // Woken by a write: let a few more commits arrive so one transaction and one Kafka request
        // carry several events (Kafka's linger.ms, for the same reason).
        await sleep(this.options.lingerMs);
      }
    }
  }

  /** Deletes rows earlier images marked sent instead of deleting them (see `retentionMinutes`). */
  private async cleanupIfDue(): Promise<void> {
    if (Date.now() - this.lastCleanup < CLEANUP_INTERVAL_MS) return;
    this.lastCleanup = Date.now();
    await this.options.db.query("DELETE FROM outbox WHERE sent_at < now() - make_interval(mins => $1)", [
      this.options.retentionMinutes,
    ]);
  }

  private async listen(channel: string): Promise<void> {
    const client = await this.options.db.pool.connect();
    client.on("notification", () => this.waker.wake());
    client.on("error", (error) => {
      // Polling still delivers; the listener is re-established on the next start.
      this.options.logger.warn({ err: error }, "outbox LISTEN connection lost; falling back to polling");
      this.listener?.release(error);
      this.listener = undefined;
    });
    await client.query(`LISTEN "${channel.replaceAll('"', "")}"`);
    this.listener = client;
  }
}
