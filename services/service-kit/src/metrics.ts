import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from "prom-client";
import { HTTP_DURATION_BUCKETS, KIT_METRICS, SERVICE_METRICS, type ServiceMetricName } from "./metric-names";

const E2E_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1, 2.5, 5, 10, 30];

/** How each service-specific metric is created, for the services whose catalog entry lists it. */
const SERVICE_METRIC_FACTORIES = {
  notifications_total: (registers: Registry[]) =>
    new Counter({
      name: SERVICE_METRICS.notifications,
      help: "Notification delivery outcomes.",
      labelNames: ["type", "status"] as const,
      registers,
    }),
  event_end_to_end_latency_seconds: (registers: Registry[]) =>
    new Histogram({
      name: SERVICE_METRICS.endToEndLatency,
      help: "From the originating event's occurred_at to the notification recorded.",
      labelNames: ["event_type"] as const,
      buckets: E2E_BUCKETS,
      registers,
    }),
} satisfies Record<ServiceMetricName, (registers: Registry[]) => Metric>;

type ServiceMetricOf<N extends ServiceMetricName> = ReturnType<(typeof SERVICE_METRIC_FACTORIES)[N]>;

function isServiceMetricName(name: string): name is ServiceMetricName {
  return Object.hasOwn(SERVICE_METRIC_FACTORIES, name);
}

/**
 * One Prometheus registry per service instance, with `service` as a default label on every series:
 * the kit's metrics (KIT_METRICS), prom-client's defaults, and the service-specific metrics its
 * catalog entry declares. Gauges that need I/O (backlog, lag) are computed at scrape time by the
 * collectors their owners register with `onCollect`.
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
  readonly consumerRestarts: Counter<"group">;
  readonly outboxBacklog: Gauge;
  readonly outboxOldestAge: Gauge;
  readonly kafkaConnected: Gauge<"client">;
  readonly dbPoolConnections: Gauge<"state">;
  readonly dbConnectionErrors: Counter;
  readonly dbPoolWaitTimeouts: Counter;
  private readonly declared = new Map<ServiceMetricName, Metric>();
  private readonly collectors: Array<() => Promise<void>> = [];

  /** `declared`: the catalog entry's `metrics`; each must be a known service-specific metric. */
  constructor(
    readonly service: string,
    declared: readonly string[] = [],
  ) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: KIT_METRICS.httpRequests,
      help: "HTTP requests by route template and status.",
      labelNames: ["method", "endpoint", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: KIT_METRICS.httpDuration,
      help: "HTTP request duration by route template and status.",
      labelNames: ["method", "endpoint", "status"],
      buckets: [...HTTP_DURATION_BUCKETS],
      registers,
    });
    this.serviceErrors = new Counter({
      name: KIT_METRICS.serviceErrors,
      help: "5xx responses and unhandled errors.",
      registers,
    });
    this.eventsPublished = new Counter({
      name: KIT_METRICS.eventsPublished,
      help: "Events the outbox relay published to Kafka.",
      labelNames: ["topic"],
      registers,
    });
    this.eventsConsumed = new Counter({
      name: KIT_METRICS.eventsConsumed,
      help: "Events processed successfully (duplicates included, as they succeed without effect).",
      labelNames: ["topic", "group"],
      registers,
    });
    this.eventsRetried = new Counter({
      name: KIT_METRICS.eventsRetried,
      help: "Processing attempts that failed and were retried.",
      labelNames: ["topic", "group"],
      registers,
    });
    this.eventsDeadLettered = new Counter({
      name: KIT_METRICS.eventsDeadLettered,
      help: "Events sent to the dead-letter topic.",
      labelNames: ["topic", "group"],
      registers,
    });
    this.consumerLag = new Gauge({
      name: KIT_METRICS.consumerLag,
      help: "High watermark minus committed offset, per partition.",
      labelNames: ["group", "topic", "partition"],
      registers,
    });
    this.consumerRestarts = new Counter({
      name: KIT_METRICS.consumerRestarts,
      help: "Consumer clients replaced after a crash they did not recover from by themselves.",
      labelNames: ["group"],
      registers,
    });
    this.outboxBacklog = new Gauge({
      name: KIT_METRICS.outboxBacklog,
      help: "Outbox rows not yet published.",
      registers,
    });
    this.outboxOldestAge = new Gauge({
      name: KIT_METRICS.outboxOldestAge,
      help: "Age of the oldest unpublished outbox row; 0 when empty.",
      registers,
    });
    this.kafkaConnected = new Gauge({
      name: KIT_METRICS.kafkaConnected,
      help: "1 while the Kafka client's last exchange with the brokers succeeded (connect, send, group join).",
      labelNames: ["client"],
      registers,
    });
    this.dbPoolConnections = new Gauge({
      name: KIT_METRICS.dbPool,
      help: "PostgreSQL pool connections by state.",
      labelNames: ["state"],
      registers,
    });
    this.dbPoolWaitTimeouts = new Counter({
      name: KIT_METRICS.dbPoolWaitTimeouts,
      help: "Waits for a free pooled connection that timed out while the pool was full (overload, not an outage).",
      registers,
    });
    this.dbConnectionErrors = new Counter({
      name: KIT_METRICS.dbConnectionErrors,
      help: "Failures to reach PostgreSQL (connect errors, lost connections).",
      registers,
    });
    for (const name of declared) {
      if (!isServiceMetricName(name)) {
        const known = Object.keys(SERVICE_METRIC_FACTORIES).join(", ");
        throw new Error(`${service}: catalog metric "${name}" is not one the kit knows (known: ${known})`);
      }
      this.declared.set(name, SERVICE_METRIC_FACTORIES[name](registers));
    }
  }

  /**
   * A service-specific metric; throws when the service's catalog entry does not declare it, so a
   * service cannot expose a metric the dashboards do not know it has.
   */
  serviceMetric<N extends ServiceMetricName>(name: N): ServiceMetricOf<N> {
    const metric = this.declared.get(name);
    if (!metric) {
      throw new Error(`${this.service}: metric "${name}" is not in its catalog entry's metrics`);
    }
    return metric as ServiceMetricOf<N>;
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
