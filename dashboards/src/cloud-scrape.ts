/**
 * Scrape configurations for the cloud, for the services the stacks deploy: jobs named after the
 * services, the services' own `service` label kept (`honor_labels`), and `env` attached, so
 * rules and dashboards read the same series locally and in AWS.
 */

/** How often the cloud collectors scrape; AMP bills per sample, so less often than locally. */
const CLOUD_SCRAPE_INTERVAL = "30s";

/** Label the EKS workloads put on every pod (modules/kubernetes). */
const POD_NAME_LABEL = "__meta_kubernetes_pod_label_app_kubernetes_io_name";

/**
 * Scrape configuration of the AMP managed scraper on EKS: the pods of `services` in `namespace`,
 * on their container port named `http`.
 */
export function eksScrapeConfig(
  env: string,
  namespace: string,
  services: readonly string[],
): Record<string, unknown> {
  return {
    global: { scrape_interval: CLOUD_SCRAPE_INTERVAL },
    scrape_configs: [
      {
        job_name: "blueprint-services",
        honor_labels: true,
        kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [namespace] } }],
        relabel_configs: [
          { source_labels: [POD_NAME_LABEL], regex: services.join("|"), action: "keep" },
          { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: "http", action: "keep" },
          { source_labels: [POD_NAME_LABEL], target_label: "job" },
          { source_labels: [POD_NAME_LABEL], target_label: "service" },
          { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
          { target_label: "env", replacement: env },
        ],
      },
    ],
  };
}

/**
 * Where the ECS observer writes the targets it discovers, read back by the Prometheus receiver: a
 * task volume, as the collector's root filesystem is read-only.
 */
export const ECS_TARGETS_DIR = "/ecs-targets";
const ECS_TARGETS_FILE = `${ECS_TARGETS_DIR}/targets.yaml`;

export interface EcsCollectorSettings {
  readonly env: string;
  readonly clusterName: string;
  readonly region: string;
  /** AMP remote write URL (`<workspace endpoint>api/v1/remote_write`). */
  readonly remoteWriteUrl: string;
  /** Container port per service, as in the ECS task definitions: the services scraped. */
  readonly ports: Readonly<Record<string, number>>;
}

/** Port of the collector's OTLP/HTTP receiver, where the services send their spans. */
export const OTLP_HTTP_PORT = 4318;

/** Port of the EKS collector's health check, for its probes. */
export const COLLECTOR_HEALTH_PORT = 13133;

/** The traces half of a collector configuration, the same on ECS and EKS: OTLP/HTTP in, X-Ray out. */
function tracesToXray(region: string) {
  return {
    // HTTP only: the services' SDK exports OTLP over HTTP. The receiver's default address is
    // localhost, which the services cannot reach.
    receivers: { otlp: { protocols: { http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` } } } },
    processors: {
      batch: {},
      // A burst of spans is refused (the SDKs retry, then drop) before it runs the collector out of
      // memory, and on ECS stops the metrics with it.
      memory_limiter: { check_interval: "1s", limit_percentage: 75, spike_limit_percentage: 20 },
    },
    exporters: { awsxray: { region } },
    pipeline: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["awsxray"] },
  };
}

/**
 * ADOT collector configuration for EKS, traces only (the AMP managed scraper collects the metrics
 * there): the services push spans over OTLP/HTTP and the `awsxray` exporter sends them to X-Ray.
 */
export function eksTraceCollectorConfig(region: string): Record<string, unknown> {
  const traces = tracesToXray(region);
  return {
    extensions: { health_check: { endpoint: `0.0.0.0:${COLLECTOR_HEALTH_PORT}` } },
    receivers: traces.receivers,
    processors: traces.processors,
    exporters: traces.exporters,
    service: { extensions: ["health_check"], pipelines: { traces: traces.pipeline } },
  };
}

/**
 * AWS Distro for OpenTelemetry collector configuration for ECS. Metrics: the `ecs_observer`
 * extension finds the service tasks through the ECS API, the Prometheus receiver scrapes them, and
 * the remote-write exporter signs with SigV4 into AMP. Traces: the services push spans over
 * OTLP/HTTP and the `awsxray` exporter sends them to X-Ray (decision 0053).
 */
export function ecsCollectorConfig(settings: EcsCollectorSettings): Record<string, unknown> {
  const traces = tracesToXray(settings.region);
  return {
    extensions: {
      sigv4auth: { region: settings.region, service: "aps" },
      ecs_observer: {
        cluster_name: settings.clusterName,
        cluster_region: settings.region,
        refresh_interval: CLOUD_SCRAPE_INTERVAL,
        result_file: ECS_TARGETS_FILE,
        // `\z` anchors the end without `$`, which the collector treats as a variable reference.
        services: Object.entries(settings.ports).map(([name, port]) => ({
          name_pattern: `^${name}\\z`,
          metrics_ports: [port],
          job_name: name,
        })),
      },
    },
    receivers: {
      prometheus: {
        config: {
          global: { scrape_interval: CLOUD_SCRAPE_INTERVAL },
          scrape_configs: [
            {
              job_name: "blueprint-services",
              honor_labels: true,
              file_sd_configs: [{ files: [ECS_TARGETS_FILE] }],
              relabel_configs: [
                { source_labels: ["__meta_ecs_service_name"], target_label: "service" },
                { source_labels: ["__meta_ecs_task_definition_family"], target_label: "task_family" },
                { target_label: "env", replacement: settings.env },
              ],
            },
          ],
        },
      },
      ...traces.receivers,
    },
    processors: traces.processors,
    exporters: {
      prometheusremotewrite: {
        endpoint: settings.remoteWriteUrl,
        auth: { authenticator: "sigv4auth" },
      },
      ...traces.exporters,
    },
    service: {
      extensions: ["ecs_observer", "sigv4auth"],
      pipelines: {
        metrics: { receivers: ["prometheus"], processors: ["batch"], exporters: ["prometheusremotewrite"] },
        traces: traces.pipeline,
      },
    },
  };
}
