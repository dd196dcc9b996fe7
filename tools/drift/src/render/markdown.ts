import { SENSITIVE, UNKNOWN } from "../attributes";
import type { Kind, Report, ReportEntry } from "../report";
import { SEVERITIES } from "../severity";

/** GitHub's limit for the body of an issue or a comment, in characters. */
export const GITHUB_BODY_LIMIT = 65_536;
/** Longest value shown in a table cell; the full value is in the JSON report. */
export const MAX_VALUE_CHARS = 300;
/** Attribute rows shown per resource; the rest are counted. */
export const MAX_ATTRIBUTE_ROWS = 40;

const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Inline code that survives GitHub table cells: backticks when safe, `<code>` otherwise. */
export function code(text: string): string {
  if (!/[`|\n]/.test(text)) return `\`${text}\``;
  return `<code>${escapeHtml(text).replace(/\|/g, "&#124;").replace(/`/g, "&#96;").replace(/\n/g, " ")}</code>`;
}

function shorten(text: string): string {
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function value(v: unknown, sensitive: boolean | undefined, unknown: boolean | undefined): string {
  if (unknown) return `_${UNKNOWN}_`;
  if (sensitive && v === SENSITIVE) return `_${SENSITIVE}_`;
  if (v === null || v === undefined) return "_(none)_";
  return code(shorten(JSON.stringify(v)));
}

const COLUMNS: Record<Kind, [string, string]> = {
  drift: ["In Terraform state", "Actual"],
  pending: ["Before", "After"],
};

function actionLabel(entry: ReportEntry): string {
  const parts: string[] = [entry.action];
  if (entry.importing && entry.action !== "import") parts.push("import");
  if (entry.previousAddress) parts.push(`moved from ${code(entry.previousAddress)}`);
  if (entry.deposed) parts.push(`deposed ${entry.deposed}`);
  return parts.join(", ");
}

function attributeSummary(entry: ReportEntry): string {
  const total = entry.attributes.length + (entry.attributesOmitted ?? 0);
  if (total === 0) return "";
  const shown = entry.attributes.slice(0, 3).map((a) => code(a.path));
  return total > shown.length ? `${shown.join(", ")} +${total - shown.length}` : shown.join(", ");
}

function overviewRow(entry: ReportEntry): string {
  return `| ${entry.severity} | ${code(entry.address)} | ${actionLabel(entry)} | ${attributeSummary(entry)} |`;
}

function details(entry: ReportEntry, kind: Kind): string {
  const [beforeTitle, afterTitle] = COLUMNS[kind];
  const lines = [
    `<details><summary>${entry.severity}: <code>${escapeHtml(entry.address)}</code> ${escapeHtml(
      entry.action,
    )} (${escapeHtml(entry.severityReason)})</summary>`,
    "",
  ];
  if (entry.actionReason) lines.push(`Terraform's reason: ${code(entry.actionReason)}`, "");
  if (entry.attributes.length === 0) {
    const gone =
      kind === "drift" ? "It no longer exists outside Terraform." : "Terraform destroys the whole resource.";
    lines.push(entry.action === "delete" ? gone : "No attribute changes.");
  } else {
    lines.push(`| Attribute | ${beforeTitle} | ${afterTitle} |`, "| --- | --- | --- |");
    for (const a of entry.attributes.slice(0, MAX_ATTRIBUTE_ROWS)) {
      const name = a.forcesReplacement ? `${code(a.path)} (forces replacement)` : code(a.path);
      lines.push(
        `| ${name} | ${value(a.before, a.beforeSensitive, false)} | ${value(a.after, a.afterSensitive, a.afterUnknown)} |`,
      );
    }
    const more = entry.attributes.length - MAX_ATTRIBUTE_ROWS + (entry.attributesOmitted ?? 0);
    if (more > 0) lines.push("", `${more} more changed attributes are in the JSON report.`);
  }
  if (entry.ignoredAttributes?.length) {
    lines.push("", `Ignored attributes: ${entry.ignoredAttributes.map(code).join(", ")}.`);
  }
  lines.push("", "</details>");
  return lines.join("\n");
}

interface Block {
  readonly text: string;
  /** Table rows follow the previous block on the next line; other blocks after a blank line. */
  readonly tight?: boolean;
  /** Lower goes in first when space is short. */
  readonly priority: number;
  readonly detailOf?: ReportEntry;
  readonly rowOf?: ReportEntry;
}

export interface MarkdownOptions {
  /** Character budget for the whole output. */
  readonly limit?: number;
  /** Leave out the report's own heading (when embedded in a PR comment). */
  readonly embedded?: boolean;
  /** Where the full report is, named in the truncation note. */
  readonly fullReportHint?: string;
}

function heading(report: Report): string {
  const where = [report.stack ? code(report.stack) : "plan", report.env ? `(${report.env})` : ""]
    .filter(Boolean)
    .join(" ");
  return `### Terraform drift report: ${where}`;
}

function provenance(report: Report): string {
  const parts = [
    report.terraformVersion ? `Terraform ${report.terraformVersion}` : null,
    `plan format ${report.formatVersion}`,
    report.planTimestamp ? `planned at ${report.planTimestamp}` : null,
  ].filter(Boolean);
  return `${parts.join(", ")}.`;
}

function counts(report: Report): string {
  const s = report.summary;
  if (s.drifted + s.pending === 0) {
    return `No drift and no pending changes${s.ignored ? ` (${s.ignored} ignored by the ignore file)` : ""}.`;
  }
  const table = [
    `**${s.drifted} drifted** (changed outside Terraform) and **${s.pending} pending** (in code, not applied)${
      s.ignored ? `; ${s.ignored} ignored by the ignore file` : ""
    }.`,
    "",
    "| Severity | Drift | Pending |",
    "| --- | ---: | ---: |",
    ...SEVERITIES.map((sev) => `| ${sev} | ${s.driftSeverity[sev]} | ${s.pendingSeverity[sev]} |`),
  ];
  return table.join("\n");
}

const SECTION_TITLES: Record<Kind, string> = {
  drift: "Drift: changed outside Terraform",
  pending: "Pending changes: in code, not yet applied",
};

/**
 * Renders a report as GitHub Markdown within `limit` characters. When space is short, overview
 * rows go in before per-resource details, and a note says what was left out and where to find it.
 */
export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? GITHUB_BODY_LIMIT;
  const head: string[] = [];
  if (!options.embedded) head.push(heading(report), "");
  head.push(provenance(report), "", counts(report));
  if (!report.complete) {
    head.push(
      "",
      "> **Incomplete plan**: Terraform deferred some changes; another plan after apply will show more.",
    );
  }
  const blocks: Block[] = [{ text: head.join("\n"), priority: 0 }];
  for (const kind of ["drift", "pending"] as const) {
    const entries = report[kind];
    if (entries.length === 0) continue;
    blocks.push({ text: `#### ${SECTION_TITLES[kind]} (${entries.length})`, priority: 1 });
    entries.forEach((entry, i) => {
      const header =
        i === 0 ? "| Severity | Resource | Action | Changed attributes |\n| --- | --- | --- | --- |\n" : "";
      blocks.push({ text: header + overviewRow(entry), priority: 1, rowOf: entry, tight: i > 0 });
    });
    for (const entry of entries) blocks.push({ text: details(entry, kind), priority: 2, detailOf: entry });
  }
  if (report.ignored.length > 0) {
    const lines = report.ignored.map(
      (i) =>
        `- ${i.kind}: ${code(i.address)}${i.attributes ? ` (${i.attributes.map(code).join(", ")})` : ""}: ${
          i.reason
        } (until ${i.expires})`,
    );
    blocks.push({ text: `#### Ignored (${report.ignored.length})\n\n${lines.join("\n")}`, priority: 3 });
  }
  return fitToLimit(blocks, limit, report, options.fullReportHint);
}

const join = (blocks: readonly Block[]) =>
  blocks.map((b, i) => (i === 0 ? "" : b.tight ? "\n" : "\n\n") + b.text).join("");

function fitToLimit(
  blocks: readonly Block[],
  limit: number,
  report: Report,
  hint: string | undefined,
): string {
  const all = join(blocks);
  if (all.length <= limit) return all;

  const entries = report.drift.length + report.pending.length;
  const noteFor = (rows: number, detailCount: number) => {
    const where = hint ? ` The full report is in ${hint}.` : " The full report is in the JSON output.";
    return `\n\n> **Truncated** to fit GitHub's ${GITHUB_BODY_LIMIT.toLocaleString("en-US")}-character limit: overview of ${rows} of ${entries} resources and details of ${detailCount} of ${entries} shown.${where}`;
  };
  const reserve = noteFor(entries, entries).length;
  const order = blocks
    .map((block, index) => ({ block, index }))
    .sort((a, b) => a.block.priority - b.block.priority);
  const included = new Set<number>();
  let used = 0;
  for (const { block, index } of order) {
    const cost = block.text.length + 2;
    if (used + cost + reserve > limit) break;
    used += cost;
    included.add(index);
  }
  const kept = blocks.filter((_, index) => included.has(index));
  const rows = kept.filter((b) => b.rowOf).length;
  const detailCount = kept.filter((b) => b.detailOf).length;
  const body = join(kept) + noteFor(rows, detailCount);
  return body.length <= limit ? body : body.slice(0, limit);
}
