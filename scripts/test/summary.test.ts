import { describe, expect, it } from "vitest";
import { summaryLines } from "./summary";

describe("test summary", () => {
  it("When suites ran, then each has a row with its counts and seconds, a total row, and the plain count line last", () => {
    const lines = summaryLines(
      [
        { name: "lint (biome)", result: { passed: 1, failed: 0, skipped: 0 }, seconds: 3.21 },
        { name: "services (jest)", result: { passed: 40, failed: 2, skipped: 3 }, seconds: 95.04 },
      ],
      120,
    );
    expect(lines).toEqual([
      "suite                         passed  failed  skipped  seconds",
      "lint (biome)                       1       0        0      3.2",
      "services (jest)                   40       2        3     95.0",
      "total                             41       2        3    120.0",
      "41 passed, 2 failed, 3 skipped",
    ]);
  });

  it("When nothing was skipped, then the closing line has no skipped count", () => {
    const lines = summaryLines([{ name: "x", result: { passed: 2, failed: 0, skipped: 0 }, seconds: 1 }], 1);
    expect(lines.at(-1)).toBe("2 passed, 0 failed");
  });
});
