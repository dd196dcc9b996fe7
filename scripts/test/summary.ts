import type { SuiteResult } from "./suites";

/** One suite's counts and how long it took. */
export interface SuiteOutcome {
  readonly name: string;
  readonly result: SuiteResult;
  readonly seconds: number;
}

const COLUMNS = ["passed", "failed", "skipped", "seconds"] as const;

function row(name: string, cells: readonly string[]): string {
  return `${name.padEnd(28)}${cells.map((c, i) => c.padStart((COLUMNS[i] ?? "").length + 2)).join("")}`;
}

/**
 * The closing table, one row per suite with its duration and a total row, then the plain
 * `N passed, N failed[, N skipped]` line that CI reads, always last.
 */
export function summaryLines(outcomes: readonly SuiteOutcome[], totalSeconds: number): string[] {
  const total = outcomes.reduce(
    (sum, { result }) => ({
      passed: sum.passed + result.passed,
      failed: sum.failed + result.failed,
      skipped: sum.skipped + result.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  const cells = (r: SuiteResult, seconds: number) => [
    String(r.passed),
    String(r.failed),
    String(r.skipped),
    seconds.toFixed(1),
  ];
  return [
    row("suite", [...COLUMNS]),
    ...outcomes.map((o) => row(o.name, cells(o.result, o.seconds))),
    row("total", cells(total, totalSeconds)),
    `${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`,
  ];
}
