import { describe, expect, it } from "vitest";
import { kneeChart } from "./chart";
import type { RateStep } from "./stats";

const steps: RateStep[] = [
  { rate: 100, achieved: 100, p50: 12, p99: 40, lost: 0, failed: 0, maxLag: 3 },
  { rate: 200, achieved: 199, p50: 15, p99: 90, lost: 0, failed: 0, maxLag: 8 },
  { rate: 400, achieved: 390, p50: 900, p99: 4000, lost: 2, failed: 0, maxLag: 900 },
];

const points = (svg: string, cls: string) =>
  (new RegExp(`class="${cls}"[^>]*points="([^"]*)"`).exec(svg)?.[1] ?? "").split(" ").filter(Boolean);

describe("the knee chart", () => {
  it("draws one p50 and one p99 point per step, left to right, and p99 above p50", () => {
    const svg = kneeChart([...steps].reverse());
    const p50 = points(svg, "p50").map((p) => p.split(",").map(Number));
    const p99 = points(svg, "p99").map((p) => p.split(",").map(Number));
    expect(p50).toHaveLength(3);
    expect(p99).toHaveLength(3);
    expect(p50.map(([x]) => x)).toEqual([...p50.map(([x]) => x)].sort((a, b) => (a ?? 0) - (b ?? 0)));
    // SVG y grows downwards: a longer latency is drawn higher, with a smaller y.
    for (const [i, [, y]] of p50.entries()) expect(p99[i]?.[1]).toBeLessThan(y ?? 0);
  });

  it("marks the knee, the p99 limit and each step that lost events", () => {
    const svg = kneeChart(steps, { kneeRate: 200, p99LimitMs: 1000 });
    expect(svg).toContain("knee 200 users/s");
    expect(svg).toContain("p99 limit 1000 ms");
    expect(svg.match(/class="lost"/g)).toHaveLength(1);
  });

  it("escapes the caption, so that any text stays well-formed XML", () => {
    expect(kneeChart(steps, { caption: "a < b & c" })).toContain("a &#60; b &#38; c");
  });

  it("refuses to draw nothing", () => {
    expect(() => kneeChart([])).toThrow("at least one step");
  });
});
