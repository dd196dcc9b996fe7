import type { ClientTally } from "./load";

/** One fault's outcome: a row of the table the suite prints. */
export interface FaultRow {
  readonly fault: string;
  /** Whether 503 with Retry-After is expected: only while the database itself is down. */
  readonly databaseDown: boolean;
  /** Whether the fault may resend an email under its first Message-ID (see `Fault.mayResend`). */
  readonly mayResend: boolean;
  readonly tally: ClientTally;
  /** Committed writes whose downstream effects never appeared within the wait. */
  readonly lost: number;
  /** Which effect the lost writes lack, e.g. `{ email: 10 }`. */
  readonly lostByEffect: Readonly<Record<string, number>>;
  readonly duplicateOrders: number;
  /** Notifications beyond the first for one user or order (emails with a Message-ID of their own). */
  readonly duplicateNotifications: number;
  readonly duplicateEmails: number;
  /** Emails sent again with their first Message-ID (receivers can drop them). */
  readonly resentEmails: number;
  /** Seconds from the fault's end until every write committed before it had its effects; null: never within the wait. */
  readonly caughtUpSeconds: number | null;
  /** Service exits the suite did not cause (the supervisor restarted them). */
  readonly crashes: number;
}

/** Seconds after a fault ends within which the flow must have caught up. */
export const CATCH_UP_GOAL_S = 30;

/** Every goal the row misses, in words; empty when it meets them all. */
export function violations(row: FaultRow): string[] {
  const problems: string[] = [];
  const { tally } = row;
  if (row.lost > 0) {
    const which = Object.entries(row.lostByEffect).map(([effect, n]) => `${n} without ${effect}`);
    problems.push(`${row.lost} accepted write(s) lost downstream (${which.join(", ")})`);
  }
  if (row.duplicateOrders > 0)
    problems.push(`${row.duplicateOrders} duplicate order(s) for one Idempotency-Key`);
  if (row.duplicateNotifications > 0)
    problems.push(`${row.duplicateNotifications} duplicate notification(s) for one user or order`);
  if (row.duplicateEmails > 0)
    problems.push(`${row.duplicateEmails} duplicate email(s) for one notification with a new Message-ID`);
  if (!row.mayResend && row.resentEmails > 0)
    problems.push(`${row.resentEmails} email(s) resent although no send was interrupted`);
  if (tally.otherServerErrors > 0)
    problems.push(`${tally.otherServerErrors} 5xx other than 503 with Retry-After`);
  if (!row.databaseDown && tally.unavailableWithRetryAfter > 0)
    problems.push(`${tally.unavailableWithRetryAfter} 503 while the database was up`);
  if (tally.notAccepted > 0) problems.push(`${tally.notAccepted} write(s) never accepted`);
  if (row.caughtUpSeconds === null || row.caughtUpSeconds > CATCH_UP_GOAL_S)
    problems.push(`not caught up within ${CATCH_UP_GOAL_S} s of the fault ending`);
  if (row.crashes > 0) problems.push(`${row.crashes} service crash(es)`);
  if (tally.samples.length > 0) problems.push(`e.g. ${tally.samples.join("; ")}`);
  return problems;
}

const COLUMNS = [
  "fault",
  "accepted",
  "lost",
  "doubled",
  "resent",
  "503+RA",
  "other 5xx",
  "no resp.",
  "crashes",
  "caught up",
  "goal",
] as const;

function cells(row: FaultRow): string[] {
  const { tally } = row;
  const caughtUp = row.caughtUpSeconds === null ? "never" : `${row.caughtUpSeconds.toFixed(1)} s`;
  return [
    row.fault,
    String(tally.accepted),
    String(row.lost),
    String(row.duplicateOrders + row.duplicateNotifications + row.duplicateEmails),
    String(row.resentEmails),
    String(tally.unavailableWithRetryAfter),
    String(tally.otherServerErrors),
    String(tally.noResponse),
    String(row.crashes),
    caughtUp,
    violations(row).length === 0 ? "met" : "MISSED",
  ];
}

/** The rows as a fixed-width table, header first. */
export function faultTable(rows: readonly FaultRow[]): string {
  const grid = [[...COLUMNS], ...rows.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...grid.map((r) => (r[i] ?? "").length)));
  return grid
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}
