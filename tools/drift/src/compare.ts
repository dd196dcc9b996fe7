import { isDeepStrictEqual } from "node:util";
import type { Report, ReportEntry } from "./report";

const comparable = (entry: ReportEntry) => ({
  action: entry.action,
  previousAddress: entry.previousAddress ?? null,
  importing: entry.importing ?? false,
  attributes: entry.attributes.map((a) => ({ path: a.path, before: a.before, after: a.after })),
});

const keyOf = (entry: ReportEntry) =>
  entry.deposed ? `${entry.address} (deposed ${entry.deposed})` : entry.address;

/**
 * Differences between the pending changes of the plan a reviewer saw and the plan about to be
 * applied: resources only in one of them, or with another action or other attribute values.
 * Empty when they match. Drift is not compared: it is reported, not applied.
 */
export function comparePending(reviewed: Report, current: Report): string[] {
  const before = new Map(reviewed.pending.map((e) => [keyOf(e), e]));
  const now = new Map(current.pending.map((e) => [keyOf(e), e]));
  const differences: string[] = [];
  for (const [key, entry] of now) {
    const seen = before.get(key);
    if (!seen) differences.push(`${key}: ${entry.action} was not in the reviewed plan`);
    else if (!isDeepStrictEqual(comparable(seen), comparable(entry))) {
      const what =
        seen.action !== entry.action ? `${seen.action} became ${entry.action}` : "attributes differ";
      differences.push(`${key}: ${what}`);
    }
  }
  for (const [key, entry] of before) {
    if (!now.has(key)) differences.push(`${key}: reviewed ${entry.action} is no longer planned`);
  }
  return differences.sort();
}
