import { LOCAL_SCRAPE_INTERVAL } from "../registry";

/**
 * Grafana provisioning for the compose stack. docker-compose-local.yml mounts
 * `./compose/grafana/provisioning` at `GRAFANA_PROVISIONING_DIR` and
 * `./dashboards/generated/grafana` at `GRAFANA_DASHBOARDS_DIR`.
 */
export const GRAFANA_PROVISIONING_DIR = "/etc/grafana/provisioning";
export const GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/blueprint";

/** Data source of the compose Prometheus; dashboards pick it through their `datasource` variable. */
export function datasourceProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: "prometheus",
        type: "prometheus",
        access: "proxy",
        url: "http://prometheus:9090",
        isDefault: true,
        editable: false,
        // Matches the scrape interval, so $__rate_interval spans at least four scrapes.
        jsonData: { timeInterval: LOCAL_SCRAPE_INTERVAL },
      },
    ],
  };
}

export function dashboardProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: "blueprint",
        folder: "Blueprint",
        type: "file",
        disableDeletion: true,
        // Generated files are the source: edits in the UI would be lost on the next start.
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: GRAFANA_DASHBOARDS_DIR },
      },
    ],
  };
}
