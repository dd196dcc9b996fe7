import {
  ALERTMANAGER_PORT,
  DRIFT_EXPORTER_PORT,
  DRIFT_JOB,
  ENVIRONMENTS,
  LOCAL_SCRAPE_INTERVAL,
  OBSERVED_SERVICES,
} from "./registry";

interface ScrapeJob {
  readonly job_name: string;
  readonly honor_labels?: boolean;
  readonly static_configs: ReadonlyArray<{
    readonly targets: readonly string[];
    readonly labels?: Readonly<Record<string, string>>;
  }>;
}

export interface PrometheusConfig {
  readonly global: { readonly scrape_interval: string; readonly evaluation_interval: string };
  readonly alerting: {
    readonly alertmanagers: ReadonlyArray<{
      readonly static_configs: ReadonlyArray<{ readonly targets: readonly string[] }>;
    }>;
  };
  readonly rule_files: readonly string[];
  readonly scrape_configs: readonly ScrapeJob[];
}

/** Rule files relative to the config file: `dashboards/generated/rules/`, `/etc/prometheus/rules/` in compose. */
const RULE_FILES_GLOB = "rules/*.rules.yml";

/**
 * The services expose `service` themselves (registry default label), and the drift report exposes
 * its own `env` (the cloud environment). `honor_labels` keeps those and adds the target labels only
 * where a series lacks them, so `up` gets `service` and `env` while no metric gets `exported_*` twins.
 */
function serviceJobs(address: (service: (typeof OBSERVED_SERVICES)[number]) => string, env: string) {
  return OBSERVED_SERVICES.map(
    (service): ScrapeJob => ({
      job_name: service.name,
      honor_labels: true,
      static_configs: [{ targets: [address(service)], labels: { env, service: service.name } }],
    }),
  );
}

/** The natively run Prometheus (`npm run deps:up`); scripts/deps/prometheus.ts relocates its addresses. */
export function localPrometheusConfig(): PrometheusConfig {
  const { host, env } = ENVIRONMENTS.local;
  return {
    global: { scrape_interval: LOCAL_SCRAPE_INTERVAL, evaluation_interval: LOCAL_SCRAPE_INTERVAL },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`${host}:${ALERTMANAGER_PORT}`] }] }] },
    rule_files: [RULE_FILES_GLOB],
    scrape_configs: [
      { job_name: "prometheus", static_configs: [{ targets: [`${host}:9090`], labels: { env } }] },
      ...serviceJobs((s) => `${host}:${s.port}`, env),
      {
        job_name: DRIFT_JOB,
        honor_labels: true,
        static_configs: [{ targets: [`${host}:${DRIFT_EXPORTER_PORT}`] }],
      },
    ],
  };
}

/**
 * The compose stack's Prometheus: services by their compose names. The drift report is a cloud
 * pipeline's output and has no container here; the native live check serves a fixture of it.
 */
export function composePrometheusConfig(): PrometheusConfig {
  const { env } = ENVIRONMENTS.compose;
  return {
    global: { scrape_interval: LOCAL_SCRAPE_INTERVAL, evaluation_interval: LOCAL_SCRAPE_INTERVAL },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`alertmanager:${ALERTMANAGER_PORT}`] }] }] },
    rule_files: [RULE_FILES_GLOB],
    scrape_configs: [
      { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"], labels: { env } }] },
      ...serviceJobs((s) => `${s.name}:${s.port}`, env),
    ],
  };
}
