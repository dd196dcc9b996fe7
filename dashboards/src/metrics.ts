import {
  HISTOGRAM_SUFFIXES,
  KIT_METRICS,
  RUNTIME_METRICS,
  SERVICE_METRICS,
} from "@blueprint/service-kit/metric-names";

export { HISTOGRAM_SUFFIXES };

/** Metrics that are not the services': Prometheus's own and the delivery pipeline's drift report. */
const PLATFORM_METRICS = {
  up: "up",
  driftResources: "terraform_drift_resources",
  driftLastRun: "terraform_drift_last_run_timestamp_seconds",
} as const;

/**
 * Every metric rules and dashboards may read. The services' names come from the kit that creates
 * them; a test rejects any other metric name in a generated query, and any service-specific metric
 * queried on services whose catalog entry does not declare it.
 */
export const METRICS = {
  ...KIT_METRICS,
  ...RUNTIME_METRICS,
  ...SERVICE_METRICS,
  ...PLATFORM_METRICS,
} as const;

/** Recording rule names (level:metric:operations), produced by `recording.rules.yml`. */
export const RECORDED = {
  errorRatio: (window: string) => `service:http_requests_errors:ratio_rate${window}`,
  slowRatio: (window: string) => `service:http_requests_slow:ratio_rate${window}`,
  driftLastRun: "stack:terraform_drift_last_run_timestamp_seconds:max",
} as const;
