import { describe, expect, it } from "vitest";
import {
  bestOf,
  kneeOf,
  percentile,
  type RateStep,
  spreadPercent,
  stepHolds,
  throughputRatio,
} from "./stats";

const step = (rate: number, p99: number, lost = 0, failed = 0): RateStep => ({
  rate,
  achieved: rate,
  p50: p99 / 2,
  p99,
  lost,
  failed,
  maxLag: 0,
});

describe("benchmark statistics", () => {
  it("percentile is the nearest rank: p50 of 1..10 is 5, p99 is 10, and an empty sample has none", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });

  it("best-of-N takes the fastest run, and the spread says how far the slowest was from it", () => {
    const runs = [
      { rps: 800, p50: 10, p99: 30 },
      { rps: 1000, p50: 8, p99: 20 },
    ];
    expect(bestOf(runs)).toBe(runs[1]);
    expect(spreadPercent(runs)).toBeCloseTo(20);
    expect(() => bestOf([])).toThrow("at least one run");
  });

  it("the ratio is ours over the reference, and a reference that served nothing is an error, not infinity", () => {
    expect(throughputRatio({ rps: 1200, p50: 1, p99: 2 }, { rps: 2000, p50: 1, p99: 2 })).toBeCloseTo(0.6);
    expect(() => throughputRatio({ rps: 1, p50: 1, p99: 1 }, { rps: 0, p50: 1, p99: 1 })).toThrow(
      "the reference server served nothing (0 req/s)",
    );
  });

  it("a step holds with p99 at the limit, not with one event lost or one request refused", () => {
    expect(stepHolds(step(100, 1000))).toBe(true);
    expect(stepHolds(step(100, 1001))).toBe(false);
    expect(stepHolds(step(100, 50, 1))).toBe(false);
    expect(stepHolds(step(100, 50, 0, 1))).toBe(false);
  });

  it("a step the load generator did not reach (below 95 % of its rate) does not hold", () => {
    expect(stepHolds({ ...step(800, 50), achieved: 760 })).toBe(true);
    expect(stepHolds({ ...step(800, 50), achieved: 759 })).toBe(false);
  });

  it("the knee is the highest rate before the first step that breaks the objective, whatever the order", () => {
    const steps = [step(400, 300), step(100, 20), step(800, 2500), step(200, 40), step(1000, 200)];
    expect(kneeOf(steps)?.rate).toBe(400);
    expect(kneeOf([step(100, 20, 3)])).toBeUndefined();
    expect(kneeOf(steps, { p99Ms: 100 })?.rate).toBe(200);
  });
});
