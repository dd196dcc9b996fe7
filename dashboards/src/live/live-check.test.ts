import { describe, expect, it } from "vitest";
import { alertSignals, dashboardQueries } from "../queries";
import { liveQueries, runLiveCheck } from "./live-check";

describe("live check", () => {
  it("When the live check runs, then it asks for every panel query and every alert signal", () => {
    const sources = new Set(liveQueries().map((q) => q.source));
    for (const q of [...dashboardQueries(), ...alertSignals()])
      expect(sources.has(q.source), q.source).toBe(true);
  });

  it("When the real services run the flow under the generated Prometheus config, then every panel, alert signal and recording rule returns data", async () => {
    const report = await runLiveCheck();
    expect(report.failures.map((f) => `${f.source}: ${f.expr}${f.error ? ` (${f.error})` : ""}`)).toEqual([]);
    expect(report.outcomes.length).toBeGreaterThan(100);
  }, 300_000);
});
