import { dashboards } from "../grafana/dashboards";
import { publishDashboards } from "../publish/grafana-publisher";

/**
 * `npm run dashboards:publish`: posts the generated dashboards and the AMP data source to a Grafana.
 * The pipeline runs it after apply through .github/scripts/publish-dashboards.sh, which mints the
 * short-lived token.
 */
const REQUIRED = ["GRAFANA_URL", "GRAFANA_TOKEN", "PROMETHEUS_ENDPOINT", "AWS_REGION"] as const;

async function main(): Promise<number> {
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    console.error(
      `dashboards:publish needs ${missing.join(", ")} (see .github/scripts/publish-dashboards.sh)`,
    );
    return 2;
  }
  const report = await publishDashboards({
    grafanaUrl: process.env.GRAFANA_URL ?? "",
    token: process.env.GRAFANA_TOKEN ?? "",
    prometheusUrl: process.env.PROMETHEUS_ENDPOINT ?? "",
    region: process.env.AWS_REGION ?? "",
    dashboards: dashboards(),
    message: process.env.PUBLISH_MESSAGE ?? "published by npm run dashboards:publish",
  });
  console.log(`Grafana ${report.grafanaVersion}: data source ${report.datasource}`);
  for (const d of report.dashboards) console.log(`  ${d.uid} version ${d.version} ${d.url}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
