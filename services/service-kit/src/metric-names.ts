/**
 * Names of the metrics the services expose, for the kit that creates them and the dashboards and
 * alerts that query them. Free of dependencies so that the dashboards read it without express or
 * pg (package subpath `@blueprint/service-kit/metric-names`).
 */

/** Every service has these: the kit's HTTP middleware, outbox relay, consumers and pool create them. */
export const KIT_METRICS = {
  /** Labels method, endpoint (the route template) and status. */
  httpRequests: "http_requests_total",
  httpDuration: "http_request_duration_seconds",
  serviceErrors: "service_errors_total",
  eventsPublished: "events_published_total",
  eventsConsumed: "events_consumed_total",
  eventsRetried: "events_retried_total",
  eventsDeadLettered: "events_dead_lettered_total",
  consumerLag: "kafka_consumer_lag",
  /** Label group: replacements of a consumer client that crashed without recovering by itself. */
  consumerRestarts: "kafka_consumer_restarts_total",
  outboxBacklog: "outbox_backlog",
  outboxOldestAge: "outbox_oldest_age_seconds",
  /** Label client: `outbox-relay`, `consumer` or `producer` (dead letters); 1 while it reaches the brokers. */
  kafkaConnected: "kafka_connected",
  dbPool: "db_pool_connections",
  dbConnectionErrors: "db_connection_errors_total",
  /** Requests and events that found every pooled connection busy for 2 s: the instance is overloaded. */
  dbPoolWaitTimeouts: "db_pool_wait_timeouts_total",
} as const;

/** prom-client's default process and Node.js metrics that dashboards read; every service has them. */
export const RUNTIME_METRICS = {
  processStartTime: "process_start_time_seconds",
  processCpu: "process_cpu_seconds_total",
  residentMemory: "process_resident_memory_bytes",
  heapUsed: "nodejs_heap_size_used_bytes",
  eventLoopLagP99: "nodejs_eventloop_lag_p99_seconds",
} as const;

/** Metrics a service has only when its catalog entry lists them in `metrics`. */
export const SERVICE_METRICS = {
  notifications: "notifications_total",
  endToEndLatency: "event_end_to_end_latency_seconds",
} as const;

export type ServiceMetricName = (typeof SERVICE_METRICS)[keyof typeof SERVICE_METRICS];

/** Series names Prometheus derives from a histogram's base name. */
export const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/** Buckets of the HTTP duration histogram; the latency SLO threshold must be one of them. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5] as const;
