/**
 * Metric names from the cross-team contract (.local/CONTRACTS.md, "Metrics"): what the services
 * and the drift report expose. Rules and dashboards name metrics only through this object, and a
 * test rejects any other metric name in a generated query, so nothing reads a metric nobody exposes.
 */
export const METRICS = {
  // HTTP (service-kit middleware); `endpoint` is the route template.
  httpRequests: "http_requests_total",
  httpDuration: "http_request_duration_seconds",
  serviceErrors: "service_errors_total",
  // Events and the outbox.
  eventsPublished: "events_published_total",
  eventsConsumed: "events_consumed_total",
  eventsRetried: "events_retried_total",
  eventsDeadLettered: "events_dead_lettered_total",
  consumerLag: "kafka_consumer_lag",
  outboxBacklog: "outbox_backlog",
  outboxOldestAge: "outbox_oldest_age_seconds",
  endToEndLatency: "event_end_to_end_latency_seconds",
  notifications: "notifications_total",
  // Database pool.
  dbPool: "db_pool_connections",
  dbConnectionErrors: "db_connection_errors_total",
  // prom-client default metrics.
  processStartTime: "process_start_time_seconds",
  processCpu: "process_cpu_seconds_total",
  residentMemory: "process_resident_memory_bytes",
  heapUsed: "nodejs_heap_size_used_bytes",
  eventLoopLagP99: "nodejs_eventloop_lag_p99_seconds",
  // Prometheus itself.
  up: "up",
  // Drift report of the delivery pipeline.
  driftResources: "terraform_drift_resources",
  driftLastRun: "terraform_drift_last_run_timestamp_seconds",
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** Histogram series names Prometheus derives from a histogram's base name. */
export const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/** Recording rule names (level:metric:operations), produced by `recording.rules.yml`. */
export const RECORDED = {
  errorRatio: (window: string) => `service:http_requests_errors:ratio_rate${window}`,
  slowRatio: (window: string) => `service:http_requests_slow:ratio_rate${window}`,
} as const;
