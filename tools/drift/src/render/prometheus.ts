import { DriftToolError } from "../errors";
import type { Report } from "../report";
import { SEVERITIES } from "../severity";

const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * Renders the drift metrics in the Prometheus text exposition format: one
 * `terraform_drift_resources` series per severity (zeros included, so a cleared alert resolves)
 * and the time of the run, for a staleness alert.
 */
export function renderPrometheus(report: Report, now: Date): string {
  if (!report.env || !report.stack) {
    throw new DriftToolError("--format prometheus needs --env and --stack: they label every series");
  }
  const labels = `env="${escapeLabel(report.env)}",stack="${escapeLabel(report.stack)}"`;
  const planned = report.planTimestamp ? Date.parse(report.planTimestamp) : Number.NaN;
  const runAt = Number.isNaN(planned) ? now.getTime() : planned;
  return [
    "# HELP terraform_drift_resources Resources changed outside Terraform (refresh-only plan), not ignored, by severity.",
    "# TYPE terraform_drift_resources gauge",
    ...SEVERITIES.map(
      (severity) =>
        `terraform_drift_resources{${labels},severity="${severity}"} ${report.summary.driftSeverity[severity]}`,
    ),
    "# HELP terraform_drift_last_run_timestamp_seconds When the plan behind the last drift report ran, in Unix seconds.",
    "# TYPE terraform_drift_last_run_timestamp_seconds gauge",
    `terraform_drift_last_run_timestamp_seconds{${labels}} ${Math.floor(runAt / 1000)}`,
    "",
  ].join("\n");
}
