import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ALERTS, runbookUrl } from "../alerts";
import { REPO_ROOT } from "../paths";
import { panelsOf, resolveVariables, targetsOf } from "../queries";
import { GRAFANA_VERSION, OBSERVED_SERVICES } from "../registry";
import { dashboards } from "./dashboards";
import { DATASOURCE } from "./kit";

const all = dashboards();
const byUid = (uid: string) => {
  const found = Object.values(all).find((d) => d.uid === uid);
  if (!found) throw new Error(`no dashboard ${uid}`);
  return found;
};
const titles = (uid: string) => panelsOf(byUid(uid)).map((p) => p.title);
const exprsOf = (uid: string, title: string) =>
  panelsOf(byUid(uid))
    .filter((p) => p.title === title)
    .flatMap(targetsOf)
    .map((t) => t.expr);
const panel = (uid: string, title: string) => panelsOf(byUid(uid)).find((p) => p.title === title);

describe("Grafana dashboards", () => {
  it("When the user-service dashboard opens, then its HTTP Requests panel shows the rate per status of its key route POST /users", () => {
    const [expr] = exprsOf("blueprint-user-service", "HTTP Requests");
    expect(expr).toMatch(/^sum by \(status\) \(rate\(http_requests_total\{method="POST",endpoint="\/users"/);
    expect(panel("blueprint-user-service", "HTTP Requests")?.fieldConfig?.defaults?.unit).toBe("reqps");
  });

  it("When a panel plots a rate, then its unit says per second (or a ratio, or seconds for a quantile)", () => {
    const perSecond = new Set(["reqps", "ops", "percentunit", "s", "x"]);
    const wrong = Object.values(all).flatMap((d) =>
      panelsOf(d)
        .filter((p) => targetsOf(p).some((t) => /\b(rate|increase|deriv)\(/.test(t.expr)))
        .filter((p) => !perSecond.has(p.fieldConfig?.defaults?.unit ?? ""))
        .map((p) => `${d.uid} / ${p.title}: ${p.fieldConfig?.defaults?.unit}`),
    );
    expect(wrong).toEqual([]);
  });

  it("When the platform overview opens, then it starts with a RED row, the 30-day error budget left and the firing alerts", () => {
    const overview = byUid("blueprint-platform");
    const rows = (overview.panels ?? []).filter((p) => p.type === "row").map((p) => p.title);
    expect(rows.slice(0, 2)).toEqual(["Services at a glance (RED)", "Alerts"]);
    expect(titles("blueprint-platform")).toEqual(
      expect.arrayContaining(["Rate", "Errors", "Duration p95", "Availability error budget left (30d)"]),
    );
    const [budget] = exprsOf("blueprint-platform", "Availability error budget left (30d)");
    expect(budget).toContain("[30d]");
    expect(panelsOf(overview).some((p) => p.type === "alertlist")).toBe(true);
  });

  it.each(OBSERVED_SERVICES.map((s) => s.name))(
    "When the %s dashboard opens, then it shows rate, errors and p50/p95/p99 duration by endpoint",
    (service) => {
      const uid = `blueprint-${service}`;
      expect(titles(uid)).toEqual(
        expect.arrayContaining([
          "Request rate by endpoint",
          "Error ratio by endpoint",
          "Duration p50 by endpoint",
          "Duration p95 by endpoint",
          "Duration p99 by endpoint",
        ]),
      );
      for (const q of ["0.5", "0.95", "0.99"]) {
        const [expr] = exprsOf(uid, `Duration p${Number(q) * 100} by endpoint`);
        expect(expr).toMatch(new RegExp(`^histogram_quantile\\(${q}, sum by \\(le, method, endpoint\\)`));
      }
      const service_ = byUid(uid).templating?.list?.find((v) => v.name === "service");
      expect(service_?.query).toBe(service);
    },
  );

  it("When the event flow dashboard opens, then it answers throughput, lag, backlog, failures and end-to-end latency", () => {
    expect(titles("blueprint-event-flow")).toEqual([
      "Events published per topic",
      "Events consumed per topic and group",
      "Notifications by type and status",
      "End-to-end latency, user created to notification recorded",
      "Consumer lag per group and partition",
      "Outbox backlog",
      "Outbox oldest event age",
      "Retried events",
      "Dead-lettered events",
    ]);
    // Every replica of a group reports the whole group's lag: summed, it would count it once per replica.
    expect(exprsOf("blueprint-event-flow", "Consumer lag per group and partition")[0]).toContain(
      "max by (group, topic, partition)",
    );
    expect(exprsOf("blueprint-event-flow", "Outbox backlog")[0]).toMatch(/^max by \(service\)/);
  });

  it("When the platform dashboard opens, then it shows targets, restarts, pool, event loop, memory and drift", () => {
    expect(titles("blueprint-platform")).toEqual(
      expect.arrayContaining([
        "Targets up",
        "Restarts in the last 15 minutes",
        "Database pool usage",
        "Event-loop lag p99",
        "Memory",
        "Drifted resources",
        "Age of the last drift report",
      ]),
    );
  });

  it("When any dashboard opens, then it has environment and service variables, described panels and unique ids", () => {
    for (const d of Object.values(all)) {
      const names = (d.templating?.list ?? []).map((v) => v.name);
      expect(names, d.uid).toEqual(["datasource", "env", "service"]);
      const panels = d.panels ?? [];
      expect(new Set(panels.map((p) => p.id)).size, d.uid).toBe(panels.length);
      for (const p of panelsOf(d)) {
        expect(p.description, `${d.uid} / ${p.title}`).toBeTruthy();
        expect(p.datasource).toEqual(DATASOURCE);
        // The alert list shows the rules' alerts, not a query.
        if (p.type !== "alertlist")
          expect((p.targets ?? []).length, `${d.uid} / ${p.title}`).toBeGreaterThan(0);
      }
    }
  });

  it("When a panel links a runbook, then the link is an alert's runbook URL", () => {
    const urls = new Set(ALERTS.map(runbookUrl));
    const linked = Object.values(all).flatMap((d) =>
      panelsOf(d).flatMap((p) => (p.links ?? []).map((l) => l.url ?? "")),
    );
    expect(linked.length).toBeGreaterThan(0);
    for (const url of linked) expect(urls.has(url), url).toBe(true);
  });

  it("When variables are resolved for All, then no Grafana variable is left in a query", () => {
    for (const d of Object.values(all)) {
      for (const p of panelsOf(d)) {
        for (const t of targetsOf(p)) {
          const resolved = resolveVariables(t.expr, d.templating?.list ?? [], "1m");
          expect(resolved, `${d.uid} / ${p.title}`).not.toMatch(/\$/);
        }
      }
    }
  });
});

describe("Grafana versions", () => {
  it("When the dashboards are generated, then compose runs the Grafana line their schema is for", () => {
    const compose = fs.readFileSync(path.join(REPO_ROOT, "docker-compose-local.yml"), "utf8");
    expect(compose).toMatch(
      new RegExp(`image: grafana/grafana:${GRAFANA_VERSION.replace(".", "\\.")}\\.\\d+\\n`),
    );
    // Schema 41 and later are Grafana 12's; Grafana 10.4 or 11 would migrate them backwards or refuse them.
    for (const d of Object.values(dashboards())) expect(d.schemaVersion, d.uid).toBeGreaterThanOrEqual(41);
  });
});
