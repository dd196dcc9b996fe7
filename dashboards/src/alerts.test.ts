import fs from "node:fs";
import path from "node:path";
import { HTTP_DURATION_BUCKETS, SERVICE_METRICS } from "@blueprint/service-kit/metric-names";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WATCHDOG_SILENT } from "../../modules/observability/dead-mans-switch";
import { WATCHDOG_ALERT } from "./alertmanager";
import { ALERTS, AREAS, alertExpr, kebabCase, RECORDING_RULES, runbookUrl } from "./alerts";
import { PROMTOOL_TEST_DIR } from "./checks/promtool-suite";
import { REPO_ROOT } from "./generate";
import { HISTOGRAM_SUFFIXES, METRICS } from "./metrics";
import { seriesNames } from "./promql-names";
import { alertSignals, dashboardQueries, recordingQueries, resolvedDashboardQueries } from "./queries";
import { RUNBOOK_BASE_URL, servicesExposing } from "./registry";
import { ruleFile, ruleFileName } from "./rules";
import { SLOS } from "./thresholds";

const RUNBOOK_DIR = path.join(REPO_ROOT, "docs/runbooks");

/** Prometheus durations as seconds, enough for `for` and eval_time values. */
function seconds(duration: string): number {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)([smhd])/g))
    total += Number(n) * (units[unit ?? "s"] ?? 0);
  return total;
}

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}

function promtoolTests(area: string): {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: AlertRuleTest[] }>;
} {
  return parse(fs.readFileSync(path.join(REPO_ROOT, PROMTOOL_TEST_DIR, `${area}.test.yml`), "utf8"));
}

describe("alert rules", () => {
  it("When alerts are listed, then each has a unique name, a severity, a non-zero `for` and all annotations", () => {
    expect(new Set(ALERTS.map((a) => a.name)).size).toBe(ALERTS.length);
    for (const alert of ALERTS) {
      const rule = ruleFile(alert.area)
        .groups.flatMap((g) => g.rules)
        .find((r) => r.alert === alert.name);
      if (!rule) throw new Error(`${alert.name} is missing from ${alert.area}.rules.yml`);
      expect(["critical", "warning", "none"]).toContain((rule.labels as Record<string, string>).severity);
      expect(seconds(alert.for), alert.name).toBeGreaterThan(0);
      const annotations = rule.annotations as Record<string, string>;
      expect(Object.keys(annotations).sort()).toEqual(["description", "runbook_url", "summary"]);
      // The watchdog's signal, `vector(1)`, has no labels to name.
      if (alert.name !== WATCHDOG_ALERT)
        expect(annotations.description, `${alert.name} description names label values`).toMatch(
          /\{\{ \$labels\./,
        );
      expect(annotations.runbook_url).toBe(`${RUNBOOK_BASE_URL}/${kebabCase(alert.name)}.md`);
    }
  });

  it("When an alert or the dead-man's switch alarm fires, then its runbook exists in docs/runbooks, and every runbook there belongs to one", () => {
    const runbooks = fs.readdirSync(RUNBOOK_DIR).filter((f) => f !== "README.md");
    const owners = [...ALERTS, { name: WATCHDOG_SILENT }];
    expect(runbooks.sort()).toEqual(owners.map((a) => `${kebabCase(a.name)}.md`).sort());
    for (const alert of owners) {
      const text = fs.readFileSync(path.join(RUNBOOK_DIR, `${kebabCase(alert.name)}.md`), "utf8");
      expect(text.startsWith(`# ${alert.name}\n`), `${alert.name} runbook title`).toBe(true);
      expect(runbookUrl(alert).endsWith(`docs/runbooks/${kebabCase(alert.name)}.md`)).toBe(true);
    }
  });

  it("When the runbook index is read, then it links every runbook", () => {
    const index = fs.readFileSync(path.join(RUNBOOK_DIR, "README.md"), "utf8");
    for (const alert of [...ALERTS, { name: WATCHDOG_SILENT }])
      expect(index, alert.name).toContain(`(${kebabCase(alert.name)}.md)`);
  });

  it("When rule files are listed, then each area has one promtool test file that loads it", () => {
    const testFiles = fs
      .readdirSync(path.join(REPO_ROOT, PROMTOOL_TEST_DIR))
      .filter((f) => f.endsWith(".test.yml"));
    expect(testFiles.sort()).toEqual(AREAS.map((a) => `${a}.test.yml`).sort());
    for (const area of AREAS)
      expect(promtoolTests(area).rule_files).toContain(`../generated/rules/${ruleFileName(area)}`);
  });

  it.each(AREAS.filter((a) => a !== "recording"))(
    "When the %s alerts are tested with promtool, then each is shown silent before its `for` and firing after with exact labels and annotations",
    (area) => {
      const file = promtoolTests(area);
      const cases = file.tests.flatMap((t) => t.alert_rule_test ?? []);
      for (const alert of ALERTS.filter((a) => a.area === area)) {
        const mine = cases.filter((c) => c.alertname === alert.name);
        const firing = mine.filter((c) => (c.exp_alerts ?? []).length > 0);
        const silent = mine.filter((c) => (c.exp_alerts ?? []).length === 0);
        expect(firing.length, `${alert.name} has a firing case`).toBeGreaterThan(0);
        expect(silent.length, `${alert.name} has a silent case`).toBeGreaterThan(0);
        const firstFiring = Math.min(...firing.map((c) => seconds(c.eval_time)));
        expect(
          silent.some((c) => seconds(c.eval_time) < firstFiring),
          `${alert.name} is silent before it fires`,
        ).toBe(true);
        for (const c of firing) {
          for (const expected of c.exp_alerts ?? []) {
            expect(expected.exp_labels?.severity, alert.name).toBe(alert.severity);
            expect(Object.keys(expected.exp_annotations ?? {}).sort()).toEqual([
              "description",
              "runbook_url",
              "summary",
            ]);
          }
        }
      }
    },
  );

  it("When any alert is tested with promtool, then at least one of its test groups feeds it series from three replicas", () => {
    const groups = AREAS.flatMap((area) => promtoolTests(area).tests) as Array<{
      input_series?: Array<{ series: string }>;
      alert_rule_test?: AlertRuleTest[];
    }>;
    const withThreeReplicas = ALERTS.filter(
      (alert) =>
        !groups.some(
          (g) =>
            (g.alert_rule_test ?? []).some((c) => c.alertname === alert.name) &&
            new Set(
              (g.input_series ?? []).map((i) => i.series.match(/instance="([^"]+)"/)?.[1]).filter(Boolean),
            ).size >= 3,
        ),
    ).map((a) => a.name);
    expect(withThreeReplicas, "alerts without a three-replica test").toEqual([]);
  });

  it("When an alert has several conditions, then each condition is a plain comparison PromQL can join with and/or", () => {
    for (const alert of ALERTS) {
      for (const condition of alert.when.flat()) {
        expect(condition.expr, alert.name).not.toMatch(/\b(and|or|unless)\b/);
      }
      expect(alertExpr(alert)).toContain(alert.when[0]?.[0]?.expr);
    }
  });

  it("When rules and dashboards are scanned, then every series they read is a metric the services or the platform expose, or a recorded rule", () => {
    const contract = new Set<string>(Object.values(METRICS));
    for (const name of Object.values(METRICS))
      for (const s of HISTOGRAM_SUFFIXES) contract.add(`${name}${s}`);
    for (const r of RECORDING_RULES) contract.add(r.record);
    // Panels with Grafana's variables resolved as Grafana would, so that they parse as PromQL.
    const queries = [...recordingQueries(), ...alertSignals(), ...resolvedDashboardQueries("1m")];
    const unknown = queries.flatMap((q) =>
      seriesNames(q.expr)
        .filter((n) => !contract.has(n))
        .map((n) => `${q.source}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it("When the latency SLO counts good requests, then its threshold is a bucket bound of the kit's duration histogram", () => {
    expect(HTTP_DURATION_BUCKETS).toContain(SLOS.latency.thresholdSeconds);
  });

  it("When rules and dashboards read a service-specific metric, then they read it only on services whose catalog entry declares it", () => {
    const queries = [...recordingQueries(), ...alertSignals(), ...dashboardQueries()];
    const problems = queries.flatMap((q) =>
      serviceMetricReads(q.expr).flatMap(({ metric, services }) => {
        if (services === undefined) return [`${q.source}: reads ${metric} without a fixed service matcher`];
        const exposing = servicesExposing(metric);
        return services
          .filter((s) => !(exposing as string[]).includes(s))
          .map((s) => `${q.source}: reads ${metric} on ${s}, whose catalog entry does not declare it`);
      }),
    );
    expect(problems).toEqual([]);
  });
});

/**
 * Each read of a service-specific metric in `expr`, with the services its fixed `service` matchers
 * allow (undefined when none fixes them: a Grafana variable or no matcher reads every service).
 */
function serviceMetricReads(expr: string): Array<{ metric: string; services?: string[] }> {
  const serviceMetrics = new Set<string>(Object.values(SERVICE_METRICS));
  const reads: Array<{ metric: string; services?: string[] }> = [];
  for (const [, name = "", matchers = ""] of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?/g)) {
    const suffix = HISTOGRAM_SUFFIXES.find(
      (s) => name.endsWith(s) && serviceMetrics.has(name.slice(0, -s.length)),
    );
    const metric = suffix ? name.slice(0, -suffix.length) : name;
    if (!serviceMetrics.has(metric)) continue;
    const fixed = [...matchers.matchAll(/service=~?"([^"$]*)"/g)].map(([, value = ""]) => value.split("|"));
    reads.push({ metric, services: fixed.length === 0 ? undefined : fixed.flat() });
  }
  return reads;
}

describe("seriesNames", () => {
  it("When an expression mixes functions, matchers, ranges and grouping, then only series names remain", () => {
    expect(
      seriesNames(
        'histogram_quantile(0.95, sum by (env, le) (rate(a_bucket{x=~"y|z"}[5m]))) / on (env) group_left b or c:d:e > 1',
      ).sort(),
    ).toEqual(["a_bucket", "b", "c:d:e"]);
  });

  it("When a label value or a label name looks like a metric, then it is not taken for one", () => {
    expect(
      seriesNames(
        'sum without (http_requests_total) (up{job="process_start_time_seconds", le="x"} offset 5m)',
      ),
    ).toEqual(["up"]);
  });

  it("When an expression does not parse, then the error says where", () => {
    expect(() => seriesNames("sum(rate(up[5m])")).toThrow(
      /PromQL does not parse at character \d+: sum\(rate\(up\[5m\]\)/,
    );
  });
});
