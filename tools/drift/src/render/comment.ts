import type { Report } from "../report";
import { code, GITHUB_BODY_LIMIT, renderMarkdown } from "./markdown";

/** First line of the sticky PR comment; the workflow finds the comment to update by it. */
export const COMMENT_MARKER = "<!-- terraform-plan-comment -->";

/** One stack's plan, or the fact that its plan job produced none. */
export interface StackPlan {
  readonly stack: string;
  readonly report: Report | null;
}

export interface CommentOptions {
  readonly limit?: number;
  /** Link to the workflow run holding the artifacts. */
  readonly runUrl?: string;
  /** Artifact name prefix; a stack's full plan is in `<prefix><stack>`. */
  readonly artifactPrefix?: string;
  /** Commit the plans were made from. */
  readonly commit?: string;
}

export interface CommentTotals {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly replace: number;
  readonly drift: number;
  readonly other: number;
  readonly failed: readonly string[];
}

/** Sums over all stacks; the workflow derives the PR labels from these. */
export function totals(plans: readonly StackPlan[]): CommentTotals {
  const sum = { add: 0, change: 0, destroy: 0, replace: 0, drift: 0, other: 0 };
  const failed: string[] = [];
  for (const { stack, report } of plans) {
    if (!report) {
      failed.push(stack);
      continue;
    }
    const a = report.summary.actions;
    sum.add += a.create;
    sum.change += a.update;
    sum.destroy += a.delete;
    sum.replace += a.replace;
    sum.drift += report.summary.drifted;
    sum.other += a.read + a.move + a.import + a.forget;
  }
  return { ...sum, failed };
}

function stackLine(report: Report): string {
  const a = report.summary.actions;
  const parts = [
    [a.create, "to add"],
    [a.update, "to change"],
    [a.delete, "to destroy"],
    [a.replace, "to replace"],
    [a.import, "to import"],
    [a.move, "to move"],
    [a.forget, "to forget"],
    [a.read, "to read"],
    [report.summary.drifted, "drifted"],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`);
  return parts.length > 0 ? parts.join(", ") : "no changes";
}

/**
 * Renders the sticky PR comment: a table of every stack's changes, then one collapsible section
 * per stack with the same Markdown as the drift report, the whole within GitHub's comment limit.
 */
export function renderComment(plans: readonly StackPlan[], options: CommentOptions = {}): string {
  const limit = options.limit ?? GITHUB_BODY_LIMIT;
  const prefix = options.artifactPrefix ?? "plan-";
  const t = totals(plans);
  const runLink = options.runUrl ? `[this workflow run](${options.runUrl})` : "this workflow run";
  const head = [
    COMMENT_MARKER,
    "## Terraform plan",
    "",
    options.commit ? `Plans of ${code(options.commit)} for every environment and stack.` : "",
    "",
    "| Stack | Add | Change | Destroy | Replace | Drift |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...plans.map(({ stack, report }) => {
      if (!report) return `| ${code(stack)} | plan failed | | | | |`;
      const a = report.summary.actions;
      return `| ${code(stack)} | ${a.create} | ${a.update} | ${a.delete} | ${a.replace} | ${report.summary.drifted} |`;
    }),
    "",
  ];
  if (t.failed.length > 0) {
    head.push(`**Plan failed** for ${t.failed.map(code).join(", ")}: see the job logs of ${runLink}.`, "");
  }
  if (t.destroy + t.replace > 0) {
    head.push("**This plan destroys or replaces resources.** Read the details before approving.", "");
  }
  head.push(`Full plans: artifacts ${code(`${prefix}<stack>`)} of ${runLink}.`, "");
  let body = head.filter((line, i, all) => !(line === "" && all[i - 1] === "")).join("\n");

  const withReports = plans.filter((p): p is StackPlan & { report: Report } => p.report !== null);
  withReports.forEach(({ stack, report }, i) => {
    const open = `\n<details><summary><code>${stack}</code>: ${stackLine(report)}</summary>\n\n`;
    const close = "\n\n</details>\n";
    const share = Math.floor((limit - body.length) / (withReports.length - i)) - open.length - close.length;
    const hint = `the artifact ${code(`${prefix}${stack}`)} of ${runLink}`;
    const inner =
      share >= 400
        ? renderMarkdown(report, { limit: share, embedded: true, fullReportHint: hint })
        : `Details left out to fit GitHub's comment limit; see ${hint}.`;
    const section = open + inner + close;
    if (body.length + section.length <= limit) body += section;
  });
  return body;
}
