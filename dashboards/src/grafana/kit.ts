import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import {
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  ConstantVariableBuilder,
  type Dashboard,
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  type Panel,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { type AlertRule, runbookUrl } from "../alerts";
import { METRICS } from "../metrics";
import { REPOSITORY_URL } from "../registry";

/** Panels query the Prometheus chosen in the `datasource` variable: local, compose or AMP. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, resolved by Grafana.
export const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** Tag shared by the blueprint's dashboards; dashboard links list dashboards by it. */
const DASHBOARD_TAG = "blueprint";

const RUNBOOKS_INDEX_URL = `${REPOSITORY_URL}/tree/main/docs/runbooks`;

export interface Query {
  readonly expr: string;
  readonly legend: string;
}

export interface PanelSpec {
  readonly title: string;
  /** What the panel answers, shown as the panel's info tooltip. */
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Alerts computed from the same signal; the panel links their runbooks. */
  readonly alerts?: readonly AlertRule[];
  /** Threshold drawn on the panel, usually the alert's. */
  readonly threshold?: number;
  /** Grid width out of 24. */
  readonly width?: number;
}

const PANEL_HEIGHT = 8;

function targets(queries: readonly Query[]): DataqueryBuilder[] {
  return queries.map((q, i) =>
    new DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE)
      .expr(q.expr)
      .legendFormat(q.legend),
  );
}

function runbookLinks(alerts: readonly AlertRule[]): DashboardLinkBuilder[] {
  return alerts.map((a) =>
    new DashboardLinkBuilder(`Runbook: ${a.name}`)
      .type(DashboardLinkType.Link)
      .url(runbookUrl(a))
      .targetBlank(true),
  );
}

function thresholds(threshold: number | undefined): ThresholdsConfigBuilder {
  const steps: Array<{ value: number | null; color: string }> = [{ value: null, color: "green" }];
  if (threshold !== undefined) steps.push({ value: threshold, color: "red" });
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

/** What every panel has: title, description, queries, size, runbook links and thresholds. */
function common<P extends TimeseriesPanelBuilder | StatPanelBuilder>(panel: P, spec: PanelSpec): P {
  panel
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(PANEL_HEIGHT)
    .span(spec.width ?? 12)
    .targets(targets(spec.queries))
    .links(runbookLinks(spec.alerts ?? []))
    .thresholds(thresholds(spec.threshold));
  return panel;
}

export function timeseries(spec: PanelSpec): TimeseriesPanelBuilder {
  const panel = common(new TimeseriesPanelBuilder(), spec).legend(
    new VizLegendOptionsBuilder()
      .showLegend(true)
      .displayMode(LegendDisplayMode.List)
      .placement(LegendPlacement.Bottom),
  );
  if (spec.threshold !== undefined) {
    panel.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Line));
  }
  return panel;
}

/** A single-value panel; `upDown` maps 1/0 to UP/DOWN as for `up`. */
export function stat(spec: PanelSpec & { readonly upDown?: boolean }): StatPanelBuilder {
  const panel = common(new StatPanelBuilder(), spec).reduceOptions(
    new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false),
  );
  if (spec.upDown) {
    panel
      .thresholds(
        new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
          { value: null, color: "red" },
          { value: 1, color: "green" },
        ]),
      )
      .mappings([
        {
          type: MappingType.ValueToText,
          options: { "0": { text: "DOWN", color: "red" }, "1": { text: "UP", color: "green" } },
        },
      ]);
  }
  return panel;
}

function row(title: string): RowBuilder {
  return new RowBuilder(title);
}

/** The `datasource` variable: any Prometheus data source. */
function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder("datasource").label("Data source").type("prometheus");
}

/** `env`: one or all environments, from the `env` label Prometheus attaches to every target. */
function envVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder("env")
    .label("Environment")
    .datasource(DATASOURCE)
    .query(`label_values(${METRICS.up}, env)`)
    .definition(`label_values(${METRICS.up}, env)`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(".*");
}

/** `service`: one, several or all services of the chosen environments. */
function serviceVariable(): QueryVariableBuilder {
  const query = `label_values(${METRICS.up}{env=~"$env",service!=""}, service)`;
  return (
    new QueryVariableBuilder("service")
      .label("Service")
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      // ".+": "All" means every service, not also the series without one (Prometheus itself).
      .allValue(".+")
  );
}

/**
 * Grafana's alert list panel, showing the firing and pending alerts of the Prometheus data source
 * (the rules of dashboards/generated/rules). The SDK has no builder for it: a plain panel object.
 */
export function alertList(spec: {
  readonly title: string;
  readonly description: string;
}): cog.Builder<Panel> {
  const panel: Panel = {
    type: "alertlist",
    title: spec.title,
    datasource: DATASOURCE,
    description: spec.description,
    gridPos: { h: PANEL_HEIGHT, w: 24, x: 0, y: 0 },
    options: {
      viewMode: "list",
      groupMode: "default",
      maxItems: 50,
      sortOrder: 3,
      stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
      alertInstanceLabelFilter: `{env=~"$env"}`,
    },
  } as Panel;
  return { build: () => panel };
}

/** On a per-service dashboard, `service` is fixed and hidden so queries read as on the others. */
function fixedServiceVariable(service: string): ConstantVariableBuilder {
  return new ConstantVariableBuilder("service").label("Service").value(service);
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** A service name fixes `service`; otherwise it is a multi-value variable. */
  readonly service?: string;
  readonly rows: ReadonlyArray<{ readonly title: string; readonly panels: readonly cog.Builder<Panel>[] }>;
}

/** Builds a dashboard with the shared variables, links and layout, and numbers its panels. */
export function dashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([DASHBOARD_TAG])
    .editable()
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser")
    .withVariable(datasourceVariable())
    .withVariable(envVariable())
    .withVariable(spec.service === undefined ? serviceVariable() : fixedServiceVariable(spec.service))
    .link(
      new DashboardLinkBuilder("Blueprint dashboards")
        .type(DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .link(
      new DashboardLinkBuilder("Runbooks")
        .type(DashboardLinkType.Link)
        .url(RUNBOOKS_INDEX_URL)
        .targetBlank(true),
    );
  for (const r of spec.rows) {
    builder.withRow(row(r.title));
    for (const panel of r.panels) builder.withPanel(panel);
  }
  const built = builder.build();
  let id = 1;
  for (const panel of built.panels ?? []) panel.id = id++;
  if (spec.service !== undefined) {
    const fixed = built.templating?.list?.find((v) => v.name === "service");
    if (fixed) fixed.hide = VariableHide.HideVariable;
  }
  return built;
}
