import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { deadLetterTopic } from "./catalog";
import type { Database, Queryable } from "./database";
import { ContractError, decodeEvent, type EventType, type EventTypes } from "./events";
import type {
  IncomingMessage,
  MessageConsumer,
  MessageHandlerControl,
  MessageProducer,
  Messaging,
  MessagingAdmin,
} from "./messaging";
import type { ServiceMetrics } from "./metrics";
import type { Component } from "./service";
import { backoffDelay, Waker, withTimeout } from "./timing";
import { consumeSpan, continueSpan, SpanKind, spanEvent, traceIdFrom } from "./trace-context";
import { isTransientError } from "./transient";

/** Handles one event type inside the transaction that also records the event id. */
export interface EventHandler<T extends EventType = EventType> {
  /** Logical topic (catalog name). */
  readonly topic: string;
  readonly eventType: T;
  /** The side effect; runs once per event id, in `tx`. */
  handle(event: EventTypes[T], tx: Queryable): Promise<void>;
  /** Runs after the transaction committed and only when it did (metrics, waking workers). */
  afterCommit?(event: EventTypes[T]): void;
}

/** Declares a handler with its event type inferred. */
export function defineHandler<T extends EventType>(handler: EventHandler<T>): EventHandler {
  return handler as unknown as EventHandler;
}

export interface EventConsumerOptions {
  /** Logical group id, the service name; physical id adds the namespace. */
  readonly group: string;
  readonly namespace: string;
  readonly db: Database;
  readonly messaging: Messaging;
  readonly admin: MessagingAdmin;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** Attempts before an event goes to the dead-letter topic. */
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Partitions processed in parallel. */
  readonly concurrency: number;
}

/**
 * `running` once the group is joined; `restarting` after the client crashed without recovering by
 * itself, until a new client has joined (not ready: nothing is consumed meanwhile).
 */
export type ConsumerState = "stopped" | "starting" | "running" | "restarting";

/** Backoff between restarts after crashes: capped, so a lasting cause is retried twice a minute. */
const RESTART_BASE_MS = 1_000;
const RESTART_MAX_MS = 30_000;

/** How often a long transaction heartbeats; the client itself sends at most one per heartbeat interval. */
const HEARTBEAT_EVERY_MS = 1_000;

/** Most messages handled in one transaction. */
const CHUNK = 100;
/** Backoff while a dependency is unavailable: short at first, capped so recovery is noticed soon. */
const WAIT_BASE_MS = 250;
const WAIT_MAX_MS = 5_000;

class Stopping extends Error {
  constructor() {
    super("consumer is stopping; the message stays uncommitted and is redelivered");
  }
}

/**
 * A Kafka consumer with the platform's guarantees: each event is validated against its contract,
 * recorded by id in the same transaction as its side effect (redeliveries change nothing), retried
 * with backoff and jitter, and after `maxAttempts` published to the dead-letter topic with its
 * original headers and the error. Transient failures (`isTransientError`: the database unreachable,
 * restarting or read-only, a serialization failure, deadlock or lock timeout, Kafka unreachable)
 * are never counted as attempts: the partition waits with capped backoff and resumes where it stopped.
 */
export class EventConsumer implements Component {
  readonly name: string;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly waker = new Waker();
  private consumer: MessageConsumer | undefined;
  private deadLetters: MessageProducer | undefined;
  private stopping = false;
  private current: ConsumerState = "stopped";
  /** Crashes since events last flowed; sets the restart backoff. */
  private crashes = 0;
  private readonly log: Logger;

  constructor(
    private readonly options: EventConsumerOptions,
    handlers: readonly EventHandler[],
  ) {
    for (const handler of handlers) this.handlers.set(handler.topic, handler);
    this.name = `${options.group} consumer`;
    this.log = options.logger.child({ component: "consumer", group: options.group });
    // Exposed at 0 from the start, so the first restart, retry or dead letter is an increase.
    options.metrics.consumerRestarts.inc({ group: options.group }, 0);
    for (const topic of this.handlers.keys()) {
      const labels = { topic, group: options.group };
      for (const counter of [
        options.metrics.eventsConsumed,
        options.metrics.eventsRetried,
        options.metrics.eventsDeadLettered,
      ])
        counter.inc(labels, 0);
    }
    options.metrics.onCollect(async () => {
      const lags = await withTimeout(
        options.admin.lag(this.groupId, this.physicalTopics()),
        1_000,
        "consumer lag query timed out",
      );
      for (const { topic, partition, lag } of lags) {
        options.metrics.consumerLag.set(
          { group: options.group, topic: this.logical(topic), partition: String(partition) },
          lag,
        );
      }
    });
  }

  get groupId(): string {
    return `${this.options.namespace}${this.options.group}`;
  }

  /** For readiness and health: whether events are being consumed. */
  state(): ConsumerState {
    return this.current;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.current = "starting";
    this.deadLetters = this.options.messaging.producer();
    await this.deadLetters.connect();
    await this.join();
  }

  /** Lets in-flight events finish (or abandons waits), commits offsets and leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.waker.wake();
    await this.consumer?.stop();
    await this.deadLetters?.disconnect();
    this.consumer = undefined;
    this.deadLetters = undefined;
    this.current = "stopped";
  }

  /** A new client joins the group; a crash it does not recover from by itself starts `restart`. */
  private async join(): Promise<void> {
    let crashed = false;
    const consumer = this.options.messaging.consumer({
      groupId: this.groupId,
      concurrency: this.options.concurrency,
      onCrash: (error) => {
        crashed = true;
        void this.restart(consumer, error);
      },
    });
    this.consumer = consumer;
    await consumer.start(this.physicalTopics(), (messages, control) => this.processBatch(messages, control));
    // The client may have crashed while joining; then it is already being replaced.
    if (!crashed && !this.stopping) this.current = "running";
  }

  /**
   * Replaces a crashed client after a capped backoff, for as long as it takes: logged and counted,
   * and `state()` is `restarting` meanwhile, so a crash never silently ends consumption.
   */
  private async restart(crashed: MessageConsumer, error: unknown): Promise<void> {
    if (this.stopping || this.consumer !== crashed) return;
    this.current = "restarting";
    this.crashes += 1;
    this.options.metrics.consumerRestarts.inc({ group: this.options.group });
    const delay = backoffDelay(this.crashes, RESTART_BASE_MS, RESTART_MAX_MS);
    this.log.error(
      { err: error, crashes: this.crashes, restart_in_ms: delay },
      "consumer crashed; restarting",
    );
    const until = Date.now() + delay;
    while (!this.stopping && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
    if (this.stopping) return;
    await crashed.stop().catch(() => undefined);
    try {
      await this.join();
    } catch (joinError) {
      if (this.consumer) await this.restart(this.consumer, joinError);
    }
  }

  private physicalTopics(): string[] {
    return [...this.handlers.keys()].map((t) => `${this.options.namespace}${t}`);
  }

  private logical(topic: string): string {
    return topic.startsWith(this.options.namespace) ? topic.slice(this.options.namespace.length) : topic;
  }

  /**
   * Fast path: a chunk of one partition's messages in one transaction (event ids recorded in one
   * statement, side effects in order, one commit). A transient failure retries the chunk; any other
   * replays it one message at a time, where retries and dead-lettering apply per event.
   */
  private async processBatch(
    messages: readonly IncomingMessage[],
    control: MessageHandlerControl,
  ): Promise<void> {
    this.crashes = 0;
    for (let start = 0; start < messages.length; start += CHUNK) {
      if (this.stopping) throw new Stopping();
      const chunk = messages.slice(start, start + CHUNK);
      await this.processChunk(chunk, control);
      const last = chunk[chunk.length - 1];
      if (last) control.resolve(last.offset);
      await control.heartbeat().catch(() => undefined);
    }
  }

  private async processChunk(
    chunk: readonly IncomingMessage[],
    control: MessageHandlerControl,
  ): Promise<void> {
    const decoded: Array<{ message: IncomingMessage; handler: EventHandler; event: EventTypes[EventType] }> =
      [];
    const poison: Array<{ message: IncomingMessage; error: ContractError }> = [];
    for (const message of chunk) {
      const handler = this.handlers.get(this.logical(message.topic));
      if (!handler) throw new Error(`no handler for topic ${message.topic}`);
      try {
        decoded.push({ message, handler, event: decodeEvent(handler.eventType, message.value) });
      } catch (error) {
        if (!(error instanceof ContractError)) throw error;
        poison.push({ message, error });
      }
    }
    const where = { topic: this.logical(chunk[0]?.topic ?? ""), partition: chunk[0]?.partition };
    for (let round = 0; ; ) {
      if (this.stopping) throw new Stopping();
      try {
        const applied = await this.heartbeating(control, () =>
          this.options.db.transaction(async (tx) => {
            if (decoded.length === 0) return [];
            const { rows } = await tx.query<{ event_id: string }>(
              `INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::bigint[])
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
              [
                decoded.map((d) => d.event.event_id),
                decoded.map((d) => d.event.event_type),
                decoded.map((d) => this.logical(d.message.topic)),
                decoded.map((d) => d.message.partition),
                decoded.map((d) => d.message.offset),
              ],
            );
            const fresh = new Set(rows.map((r) => r.event_id));
            const done: typeof decoded = [];
            for (const d of decoded) {
              // delete() makes a second copy of one event within the chunk a duplicate too.
              if (!fresh.delete(d.event.event_id)) continue;
              await consumeSpan(this.options.group, d.message, () => d.handler.handle(d.event, tx));
              done.push(d);
            }
            return done;
          }),
        );
        for (const d of applied) d.handler.afterCommit?.(d.event);
        const duplicates = decoded.length - applied.length;
        if (duplicates > 0) this.log.info({ duplicates }, "duplicate events ignored");
        if (round > 0) this.log.info(where, "transient failure cleared; partition resumed");
        for (const d of decoded) {
          this.options.metrics.eventsConsumed.inc({
            topic: this.logical(d.message.topic),
            group: this.options.group,
          });
        }
        break;
      } catch (error) {
        if (error instanceof Stopping) throw error;
        if (isTransientError(error)) {
          await this.waitOut(error, where, ++round, control);
          continue;
        }
        for (const message of chunk) await this.process(message, control);
        return;
      }
    }
    for (const { message, error } of poison) await this.deadLetter(message, error, 1, control);
  }

  private async process(message: IncomingMessage, control: MessageHandlerControl): Promise<void> {
    const topic = this.logical(message.topic);
    const handler = this.handlers.get(topic);
    const labels = { topic, group: this.options.group };
    const where = { topic, partition: message.partition, offset: message.offset, key: message.key };
    if (!handler) throw new Error(`no handler for topic ${topic}`);
    let attempt = 0;
    for (let round = 0; ; ) {
      if (this.stopping) throw new Stopping();
      try {
        const event = decodeEvent(handler.eventType, message.value);
        const fresh = await this.heartbeating(control, () =>
          this.options.db.transaction(async (tx) => {
            const claimed = await tx.query(
              `INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
              [event.event_id, event.event_type, topic, message.partition, message.offset],
            );
            if (claimed.rowCount === 0) return false;
            await consumeSpan(this.options.group, message, () => handler.handle(event, tx));
            return true;
          }),
        );
        if (fresh) handler.afterCommit?.(event);
        else this.log.info({ ...where, event_id: event.event_id }, "duplicate event ignored");
        if (round > 0) this.log.info(where, "transient failure cleared; partition resumed");
        this.options.metrics.eventsConsumed.inc(labels);
        return;
      } catch (error) {
        if (error instanceof ContractError) {
          await this.deadLetter(message, error, attempt + 1, control);
          return;
        }
        if (isTransientError(error)) {
          await this.waitOut(error, where, ++round, control);
          continue;
        }
        attempt += 1;
        if (attempt >= this.options.maxAttempts) {
          await this.deadLetter(message, error, attempt, control);
          return;
        }
        this.options.metrics.eventsRetried.inc(labels);
        const delay = backoffDelay(attempt, this.options.backoffBaseMs, this.options.backoffMaxMs);
        this.log.warn(
          { ...where, ...traceIdFrom(message.headers), err: error, attempt, retry_in_ms: delay },
          "event failed; retrying",
        );
        await this.pause(delay, control);
      }
    }
  }

  /**
   * Waits before work that failed transiently is tried again. The partition's batch stays in the
   * handler meanwhile, so that partition is paused (others go on) and heartbeats keep the group
   * membership; however long the cause lasts, nothing is dead-lettered for it.
   */
  private async waitOut(
    error: unknown,
    where: { readonly topic: string; readonly partition?: number },
    round: number,
    control: MessageHandlerControl,
  ): Promise<void> {
    const delay = backoffDelay(round, WAIT_BASE_MS, WAIT_MAX_MS);
    // The first failure and then one in ten, so a long outage is visible without flooding the log.
    if (round % 10 === 1) {
      this.log.warn(
        { ...where, err: error, round, retry_in_ms: delay },
        "transient failure; partition paused",
      );
    }
    this.options.metrics.eventsRetried.inc({ topic: where.topic, group: this.options.group });
    await this.pause(delay, control);
    if (this.stopping) throw new Stopping();
  }

  private async deadLetter(
    message: IncomingMessage,
    error: unknown,
    attempts: number,
    control: MessageHandlerControl,
  ): Promise<void> {
    const topic = this.logical(message.topic);
    const reason = error instanceof Error ? error.message : String(error);
    const headers = {
      ...message.headers,
      "dlt-error": reason.slice(0, 2_000),
      "dlt-error-type": error instanceof Error ? error.name : typeof error,
      "dlt-original-topic": topic,
      "dlt-original-partition": String(message.partition),
      "dlt-original-offset": message.offset,
      "dlt-consumer-group": this.options.group,
      "dlt-attempts": String(attempts),
      "dlt-failed-at": new Date().toISOString(),
    };
    const deadLetterTopicName = `${this.options.namespace}${deadLetterTopic(topic)}`;
    // In a span of the event's trace, so the dead-letter log line and the trace lead to each other.
    await continueSpan(
      `publish ${deadLetterTopicName}`,
      SpanKind.PRODUCER,
      message.headers,
      { "messaging.system": "kafka", "messaging.destination.name": deadLetterTopicName },
      async () => {
        spanEvent("dead_lettered", { topic, attempts, "error.type": headers["dlt-error-type"] });
        for (let round = 1; ; round++) {
          try {
            await this.deadLetters?.send([
              {
                topic: deadLetterTopicName,
                messages: [{ key: message.key ?? "", value: message.value ?? "", headers }],
              },
            ]);
            break;
          } catch (sendError) {
            if (this.stopping) throw new Stopping();
            this.log.warn({ err: sendError, round }, "dead-letter publish failed; retrying");
            await this.pause(backoffDelay(round, WAIT_BASE_MS, WAIT_MAX_MS), control);
          }
        }
        this.options.metrics.eventsDeadLettered.inc({ topic, group: this.options.group });
        this.log.error(
          { topic, partition: message.partition, offset: message.offset, key: message.key, attempts, reason },
          "event dead-lettered",
        );
      },
    );
  }

  /**
   * Runs `work` while heartbeating every second: a transaction that outlasts the session timeout
   * (a slow database; queries may take up to the pool's query timeout) would otherwise get this
   * member evicted, its partitions reassigned and its events processed again elsewhere.
   */
  private async heartbeating<T>(control: MessageHandlerControl, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => void control.heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /** Sleeps in short steps with heartbeats; ends early on stop. */
  private async pause(ms: number, control: MessageHandlerControl): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) {
      await this.waker.sleep(Math.min(1_000, until - Date.now()));
      await control.heartbeat().catch(() => undefined);
    }
  }
}
