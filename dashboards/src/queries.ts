import type { Dashboard, Panel, RowPanel, VariableModel } from "@grafana/grafana-foundation-sdk/dashboard";
import { ALERTS, RECORDING_RULES } from "./alerts";
import { dashboards } from "./grafana/dashboards";

/** One PromQL expression the blueprint runs, and where it comes from (for messages). */
export interface NamedQuery {
  readonly source: string;
  readonly expr: string;
}

/** A Prometheus query of a panel (the SDK types targets as opaque data queries). */
export interface PrometheusTarget {
  readonly expr: string;
  readonly refId: string;
  readonly legendFormat?: string;
}

/** Panels of a dashboard, rows skipped. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).filter((p): p is Panel => (p as Panel | RowPanel).type !== "row");
}

export function targetsOf(panel: Panel): PrometheusTarget[] {
  return (panel.targets ?? []) as unknown as PrometheusTarget[];
}

/** Every panel query of every generated dashboard, still holding Grafana variables. */
export function dashboardQueries(all: Readonly<Record<string, Dashboard>> = dashboards()): NamedQuery[] {
  return Object.values(all).flatMap((d) =>
    panelsOf(d).flatMap((p) =>
      targetsOf(p).map((t) => ({ source: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr })),
    ),
  );
}

/**
 * Each alert's signals: its conditions' expressions without comparison or threshold. With `live`,
 * a condition's `liveSignal` where it has one: what must have data while all is well.
 */
export function alertSignals(options: { readonly live?: boolean } = {}): NamedQuery[] {
  return ALERTS.flatMap((a) =>
    a.when.flatMap((group, g) =>
      group.map((c, i) => ({
        source: `${a.name} condition ${g + 1}.${i + 1}`,
        expr: options.live ? (c.liveSignal ?? c.expr) : c.expr,
      })),
    ),
  );
}

export function recordingQueries(): NamedQuery[] {
  return RECORDING_RULES.map((r) => ({ source: `record ${r.record}`, expr: r.expr }));
}

/**
 * Replaces Grafana's variables the way Grafana would for "All": constants by their value,
 * multi-value variables by their `allValue`, `$__rate_interval` by `rateInterval`.
 */
export function resolveVariables(
  expr: string,
  variables: readonly VariableModel[],
  rateInterval: string,
): string {
  let resolved = expr.replaceAll("$__rate_interval", rateInterval);
  for (const v of variables) {
    const value =
      v.type === "constant" ? String(v.query ?? "") : v.includeAll ? (v.allValue ?? ".*") : undefined;
    if (value === undefined) continue;
    resolved = resolved.replaceAll(`\${${v.name}}`, value).replaceAll(`$${v.name}`, value);
  }
  return resolved;
}

/** Dashboard panel queries with their variables resolved, ready for the Prometheus API. */
export function resolvedDashboardQueries(rateInterval: string): NamedQuery[] {
  return Object.values(dashboards()).flatMap((d) =>
    dashboardQueries({ [d.uid ?? ""]: d }).map((q) => ({
      ...q,
      expr: resolveVariables(q.expr, d.templating?.list ?? [], rateInterval),
    })),
  );
}
