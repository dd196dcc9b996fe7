import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Buckets shared with the dashboards and alerts (CONTRACTS.md). */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5];
const E2E_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1, 2.5, 5, 10, 30];

/**
 * One Prometheus registry per service instance, with `service` as a default label on every series,
 * and every metric the platform contract names. Gauges that need I/O (backlog, lag) are computed at
 * scrape time by the collectors their owners register with `onCollect`.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<"method" | "endpoint" | "status">;
  readonly httpDuration: Histogram<"method" | "endpoint" | "status">;
  readonly serviceErrors: Counter;
  readonly eventsPublished: Counter<"topic">;
  readonly eventsConsumed: Counter<"topic" | "group">;
  readonly eventsRetried: Counter<"topic" | "group">;
  readonly eventsDeadLettered: Counter<"topic" | "group">;
  readonly consumerLag: Gauge<"group" | "topic" | "partition">;
  readonly outboxBacklog: Gauge;
  readonly outboxOldestAge: Gauge;
  readonly endToEndLatency: Histogram<"event_type">;
  readonly notifications: Counter<"type" | "status">;
  readonly dbPoolConnections: Gauge<"state">;
  readonly dbConnectionErrors: Counter;
  private readonly collectors: Array<() => Promise<void>> = [];

  constructor(readonly service: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests by route template and status.",
      labelNames: ["method", "endpoint", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by route template and status.",
      labelNames: ["method", "endpoint", "status"],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    this.serviceErrors = new Counter({
      name: "service_errors_total",
      help: "5xx responses and unhandled errors.",
      registers,
    });
    this.eventsPublished = new Counter({
      name: "events_published_total",
      help: "Events the outbox relay published to Kafka.",
      labelNames: ["topic"],
      registers,
    });
    this.eventsConsumed = new Counter({
      name: "events_consumed_total",
      help: "Events processed successfully (duplicates included, as they succeed without effect).",
      labelNames: ["topic", "group"],
      registers,
    });
    this.eventsRetried = new Counter({
      name: "events_retried_total",
      help: "Processing attempts that failed and were retried.",
      labelNames: ["topic", "group"],
      registers,
    });
    this.eventsDeadLettered = new Counter({
      name: "events_dead_lettered_total",
      help: "Events sent to the dead-letter topic.",
      labelNames: ["topic", "group"],
      registers,
    });
    this.consumerLag = new Gauge({
      name: "kafka_consumer_lag",
      help: "High watermark minus committed offset, per partition.",
      labelNames: ["group", "topic", "partition"],
      registers,
    });
    this.outboxBacklog = new Gauge({
      name: "outbox_backlog",
      help: "Outbox rows not yet published.",
      registers,
    });
    this.outboxOldestAge = new Gauge({
      name: "outbox_oldest_age_seconds",
      help: "Age of the oldest unpublished outbox row; 0 when empty.",
      registers,
    });
    this.endToEndLatency = new Histogram({
      name: "event_end_to_end_latency_seconds",
      help: "From the originating event's occurred_at to the notification recorded.",
      labelNames: ["event_type"],
      buckets: E2E_BUCKETS,
      registers,
    });
    this.notifications = new Counter({
      name: "notifications_total",
      help: "Notification delivery outcomes.",
      labelNames: ["type", "status"],
      registers,
    });
    this.dbPoolConnections = new Gauge({
      name: "db_pool_connections",
      help: "PostgreSQL pool connections by state.",
      labelNames: ["state"],
      registers,
    });
    this.dbConnectionErrors = new Counter({
      name: "db_connection_errors_total",
      help: "Failures to reach PostgreSQL (connect errors, lost connections).",
      registers,
    });
  }

  /**
   * Registers a scrape-time collector (it runs once per scrape, before the registry renders).
   * Collectors bound their own I/O: a slow dependency must not hang /metrics.
   */
  onCollect(collector: () => Promise<void>): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collect) => collect().catch(() => undefined)));
    return this.registry.metrics();
  }
}
