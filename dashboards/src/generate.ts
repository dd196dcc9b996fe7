import { selfRunAlertmanagerConfig } from "./alertmanager";
import { dashboards } from "./grafana/dashboards";
import { dashboardProvisioning, datasourceProvisioning } from "./grafana/provisioning";
import {
  COMPOSE_ALERTMANAGER_CONFIG,
  GENERATED_DIR,
  LOCAL_ALERTMANAGER_CONFIG,
  LOCAL_PROMETHEUS_CONFIG,
  RULES_DIR,
} from "./paths";
import { MAIL_CATCHER } from "./registry";
import { renderYaml, ruleFiles } from "./rules";
import { composePrometheusConfig, localPrometheusConfig } from "./scrape";

export {
  COMPOSE_ALERTMANAGER_CONFIG,
  GENERATED_DIR,
  LOCAL_ALERTMANAGER_CONFIG,
  LOCAL_PROMETHEUS_CONFIG,
  REPO_ROOT,
  RULES_DIR,
} from "./paths";

/**
 * Every generated file, by path relative to the repository root, with its content. Written by
 * `npm run dashboards:generate`; a test regenerates them and fails on any difference.
 */
export function generatedFiles(): Readonly<Record<string, string>> {
  const files: Record<string, string> = {
    [LOCAL_PROMETHEUS_CONFIG]: renderYaml(localPrometheusConfig()),
    [`${GENERATED_DIR}/prometheus.compose.yml`]: renderYaml(composePrometheusConfig()),
    [LOCAL_ALERTMANAGER_CONFIG]: renderYaml(selfRunAlertmanagerConfig(MAIL_CATCHER.local)),
    [COMPOSE_ALERTMANAGER_CONFIG]: renderYaml(selfRunAlertmanagerConfig(MAIL_CATCHER.compose)),
    "compose/grafana/provisioning/datasources/prometheus.yml": renderYaml(datasourceProvisioning()),
    "compose/grafana/provisioning/dashboards/blueprint.yml": renderYaml(dashboardProvisioning()),
  };
  for (const [name, content] of Object.entries(ruleFiles())) files[`${RULES_DIR}/${name}`] = content;
  for (const [name, dashboard] of Object.entries(dashboards())) {
    files[`${GENERATED_DIR}/grafana/${name}`] = `${JSON.stringify(dashboard, null, 2)}\n`;
  }
  return files;
}
