import { z } from "zod";
import { diffAttributes, type Segment } from "./attributes";
import { DriftToolError } from "./errors";
import { attributeEntry, entriesFor, type IgnoreEntry, wholeResourceEntry } from "./ignore";
import type { Plan, ResourceChange } from "./plan";
import { ACTIONS, type Action, classify, SEVERITIES, type Severity } from "./severity";

/** Attribute changes listed per resource at most; the rest are counted. */
export const MAX_ATTRIBUTES = 200;

const severityCounts = z.object({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
});

const actionCounts = z.object(
  Object.fromEntries(ACTIONS.map((a) => [a, z.number().int()])) as {
    [K in Action]: z.ZodNumber;
  },
);

const attributeSchema = z.object({
  path: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  beforeSensitive: z.literal(true).optional(),
  afterSensitive: z.literal(true).optional(),
  afterUnknown: z.literal(true).optional(),
  forcesReplacement: z.literal(true).optional(),
});

const entrySchema = z.object({
  address: z.string(),
  previousAddress: z.string().optional(),
  deposed: z.string().optional(),
  type: z.string(),
  mode: z.string(),
  action: z.enum(ACTIONS),
  importing: z.literal(true).optional(),
  actionReason: z.string().optional(),
  severity: z.enum(SEVERITIES),
  severityReason: z.string(),
  attributes: z.array(attributeSchema),
  attributesOmitted: z.number().int().optional(),
  ignoredAttributes: z.array(z.string()).optional(),
});

const ignoredSchema = z.object({
  address: z.string(),
  kind: z.enum(["drift", "pending"]),
  attributes: z.array(z.string()).optional(),
  reason: z.string(),
  expires: z.string(),
});

const summarySchema = z.object({
  /** Resources changed outside Terraform (not ignored). */
  drifted: z.number().int(),
  /** Resources with changes in code not yet applied (not ignored). */
  pending: z.number().int(),
  ignored: z.number().int(),
  /** Drifted and pending resources by severity. */
  severity: severityCounts,
  driftSeverity: severityCounts,
  pendingSeverity: severityCounts,
  /** Pending resources by action. */
  actions: actionCounts,
  driftActions: actionCounts,
});

/** Marks JSON written by this tool, so it can be read back (PR comment, apply comparison). */
export const REPORT_KIND = "terraform-drift-report";

export const reportSchema = z.object({
  kind: z.literal(REPORT_KIND),
  version: z.literal(1),
  env: z.string().nullable(),
  stack: z.string().nullable(),
  terraformVersion: z.string().nullable(),
  formatVersion: z.string(),
  planTimestamp: z.string().nullable(),
  /** False when Terraform says the plan is incomplete (deferred actions, targeting). */
  complete: z.boolean(),
  summary: summarySchema,
  drift: z.array(entrySchema),
  pending: z.array(entrySchema),
  ignored: z.array(ignoredSchema),
});

export type Report = z.infer<typeof reportSchema>;
export type ReportEntry = z.infer<typeof entrySchema>;
export type IgnoredResource = z.infer<typeof ignoredSchema>;
export type SeverityCounts = z.infer<typeof severityCounts>;
export type ActionCounts = z.infer<typeof actionCounts>;
export type Kind = "drift" | "pending";

/** Maps Terraform's action list to one action; `null` for a no-op that is neither a move nor an import. */
export function actionOf(rc: ResourceChange): Action | null {
  const actions = rc.change.actions.join(",");
  switch (actions) {
    case "no-op":
      if (rc.change.importing) return "import";
      if (rc.previous_address && rc.previous_address !== rc.address) return "move";
      return null;
    case "create":
    case "read":
    case "update":
    case "delete":
    case "forget":
      return actions;
    case "delete,create":
    case "create,delete":
    case "create,forget":
      return "replace";
    default:
      throw new DriftToolError(
        `${rc.address}: unknown Terraform actions [${rc.change.actions.join(", ")}]; update tools/drift for them`,
      );
  }
}

function toSegments(paths: ReadonlyArray<ReadonlyArray<string | number>> | undefined): Segment[][] {
  return (paths ?? []).map((p) => [...p]);
}

interface Built {
  readonly entry?: ReportEntry;
  readonly ignored?: IgnoredResource;
}

function buildEntry(
  rc: ResourceChange,
  kind: Kind,
  ignore: readonly IgnoreEntry[],
  stack: string | undefined,
): Built {
  const action = actionOf(rc);
  // Drift has no moves or imports: a refresh-only plan repeats pending moves as no-ops.
  if (action === null || (kind === "drift" && (action === "move" || action === "import"))) return {};

  const applicable = entriesFor(ignore, rc.address, stack);
  const whole = wholeResourceEntry(applicable);
  if (whole) {
    return { ignored: { address: rc.address, kind, reason: whole.reason, expires: whole.expires } };
  }

  const diff =
    action === "delete" || action === "forget"
      ? []
      : diffAttributes({
          before: rc.change.before,
          after: rc.change.after,
          beforeSensitive: rc.change.before_sensitive,
          afterSensitive: rc.change.after_sensitive,
          afterUnknown: rc.change.after_unknown,
          replacePaths: toSegments(rc.change.replace_paths),
        });
  const ignoredPaths: string[] = [];
  let ignoredBy: IgnoreEntry | undefined;
  const kept = diff.filter(({ segments, change }) => {
    const entry = attributeEntry(applicable, segments);
    if (!entry) return true;
    ignoredPaths.push(change.path);
    ignoredBy ??= entry;
    return false;
  });
  // An update whose every changed attribute is accepted is not reported at all.
  if (action === "update" && diff.length > 0 && kept.length === 0 && ignoredBy) {
    return {
      ignored: {
        address: rc.address,
        kind,
        attributes: ignoredPaths,
        reason: ignoredBy.reason,
        expires: ignoredBy.expires,
      },
    };
  }

  const { severity, reason } = classify({
    type: rc.type,
    action,
    changedPaths: kept.map((c) => c.segments),
  });
  const attributes = kept.slice(0, MAX_ATTRIBUTES).map((c) => c.change);
  return {
    entry: {
      address: rc.address,
      ...(rc.previous_address && rc.previous_address !== rc.address
        ? { previousAddress: rc.previous_address }
        : {}),
      ...(rc.deposed ? { deposed: rc.deposed } : {}),
      type: rc.type,
      mode: rc.mode,
      action,
      ...(rc.change.importing ? { importing: true as const } : {}),
      ...(rc.action_reason ? { actionReason: rc.action_reason } : {}),
      severity,
      severityReason: reason,
      attributes,
      ...(kept.length > MAX_ATTRIBUTES ? { attributesOmitted: kept.length - MAX_ATTRIBUTES } : {}),
      ...(ignoredPaths.length > 0 ? { ignoredAttributes: ignoredPaths } : {}),
    },
  };
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

const byImportance = (a: ReportEntry, b: ReportEntry) =>
  SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.address.localeCompare(b.address);

export const zeroSeverities = (): SeverityCounts => ({ critical: 0, high: 0, medium: 0, low: 0 });
export const zeroActions = (): ActionCounts => Object.fromEntries(ACTIONS.map((a) => [a, 0])) as ActionCounts;

function countSeverities(entries: readonly ReportEntry[]): SeverityCounts {
  const counts = zeroSeverities();
  for (const e of entries) counts[e.severity] += 1;
  return counts;
}

function countActions(entries: readonly ReportEntry[]): ActionCounts {
  const counts = zeroActions();
  for (const e of entries) counts[e.action] += 1;
  return counts;
}

export interface BuildOptions {
  readonly env?: string;
  readonly stack?: string;
  readonly ignore?: readonly IgnoreEntry[];
}

const keyOf = (rc: ResourceChange) => `${rc.address}\u0000${rc.deposed ?? ""}`;

/**
 * Builds the report of one stack from one or more plans of it (typically a refresh-only plan for
 * drift and a normal plan for pending changes). A resource listed by several plans counts once:
 * the first plan given wins.
 */
export function buildReport(plans: readonly Plan[], options: BuildOptions = {}): Report {
  if (plans.length === 0) throw new DriftToolError("no plan given");
  const ignore = options.ignore ?? [];
  const collect = (kind: Kind, pick: (plan: Plan) => readonly ResourceChange[] | undefined) => {
    const seen = new Set<string>();
    const entries: ReportEntry[] = [];
    const ignored: IgnoredResource[] = [];
    for (const plan of plans) {
      for (const rc of pick(plan) ?? []) {
        if (seen.has(keyOf(rc))) continue;
        seen.add(keyOf(rc));
        const built = buildEntry(rc, kind, ignore, options.stack);
        if (built.entry) entries.push(built.entry);
        if (built.ignored) ignored.push(built.ignored);
      }
    }
    return { entries: entries.sort(byImportance), ignored };
  };
  const drift = collect("drift", (p) => p.resource_drift);
  const pending = collect("pending", (p) => p.resource_changes);
  const first = plans[0] as Plan;
  const all = [...drift.entries, ...pending.entries];
  return {
    kind: REPORT_KIND,
    version: 1,
    env: options.env ?? null,
    stack: options.stack ?? null,
    terraformVersion: first.terraform_version ?? null,
    formatVersion: first.format_version,
    planTimestamp: plans.map((p) => p.timestamp).find((t) => t !== undefined) ?? null,
    complete: plans.every((p) => p.complete !== false),
    summary: {
      drifted: drift.entries.length,
      pending: pending.entries.length,
      ignored: drift.ignored.length + pending.ignored.length,
      severity: countSeverities(all),
      driftSeverity: countSeverities(drift.entries),
      pendingSeverity: countSeverities(pending.entries),
      actions: countActions(pending.entries),
      driftActions: countActions(drift.entries),
    },
    drift: drift.entries,
    pending: pending.entries,
    ignored: [...drift.ignored, ...pending.ignored],
  };
}

/** True when the report shows anything to act on: drift or pending changes. */
export const hasFindings = (report: Report) => report.summary.drifted + report.summary.pending > 0;

/** Reads back a report written with `--format json`; `source` names it in errors. */
export function parseReport(raw: unknown, source: string): Report {
  const parsed = reportSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DriftToolError(`${source} is not a valid drift report:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
