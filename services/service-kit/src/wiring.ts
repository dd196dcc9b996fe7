import type { ServiceEntry } from "./catalog";
import { EventConsumer, type EventHandler } from "./consumer";
import { OutboxRelay } from "./outbox";
import type { Component, ServiceContext } from "./service";

/** Time kept back from the drain budget for what follows the relay (consumers, pool). */
const RELAY_STOP_MARGIN_MS = 500;

/**
 * The service's outbox relay, configured from the platform settings, and the component that starts
 * it and flushes it on drain.
 */
export function outboxRelay(
  context: ServiceContext,
  entry: ServiceEntry,
): { relay: OutboxRelay; component: Component } {
  const { config, db, messaging, metrics, logger } = context;
  const relay = new OutboxRelay({
    db,
    producer: messaging.producer("outbox-relay"),
    metrics,
    logger: logger.child({ component: "outbox-relay" }),
    topics: entry.produces,
    namespace: config.KAFKA_NAMESPACE,
    batchSize: config.OUTBOX_BATCH_SIZE,
    pollIntervalMs: config.OUTBOX_POLL_MS,
    lingerMs: config.OUTBOX_LINGER_MS,
    notifyChannel: config.OUTBOX_NOTIFY ? `outbox_${entry.database.schema}` : undefined,
    retentionMinutes: config.OUTBOX_RETENTION_MINUTES,
  });
  const component: Component = {
    name: "outbox-relay",
    start: () => relay.start(),
    stop: (budgetMs) => relay.stop(Math.max(0, budgetMs - RELAY_STOP_MARGIN_MS)),
  };
  return { relay, component };
}

/** An idempotent consumer in consumer group `group`, with the platform's retry and concurrency settings. */
export function eventConsumer(
  context: ServiceContext,
  group: string,
  handlers: readonly EventHandler[],
): EventConsumer {
  const { config, db, messaging, admin, metrics, logger } = context;
  return new EventConsumer(
    {
      group,
      namespace: config.KAFKA_NAMESPACE,
      db,
      messaging,
      admin,
      metrics,
      logger,
      maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
      backoffBaseMs: config.CONSUMER_BACKOFF_BASE_MS,
      backoffMaxMs: config.CONSUMER_BACKOFF_MAX_MS,
      concurrency: config.CONSUMER_CONCURRENCY,
    },
    handlers,
  );
}
