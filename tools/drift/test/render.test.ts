import { describe, expect, it } from "vitest";
import type { Plan } from "../src/plan";
import { COMMENT_MARKER, renderComment, totals } from "../src/render/comment";
import { renderJson } from "../src/render/json";
import { GITHUB_BODY_LIMIT, renderMarkdown } from "../src/render/markdown";
import { renderPrometheus } from "../src/render/prometheus";
import { buildReport, parseReport } from "../src/report";
import { reportOf } from "./helpers";

/** A plan that changes `count` security groups, each with a long description. */
function hugePlan(count: number): Plan {
  return {
    format_version: "1.2",
    terraform_version: "1.11.4",
    resource_changes: Array.from({ length: count }, (_, i) => ({
      address: `aws_security_group.group_${i}`,
      mode: "managed",
      type: "aws_security_group",
      name: `group_${i}`,
      change: {
        actions: ["update"],
        before: { description: "a".repeat(400), name: `g${i}` },
        after: { description: "b".repeat(400), name: `g${i}-renamed` },
        after_unknown: {},
        before_sensitive: {},
        after_sensitive: {},
      },
    })),
  };
}

describe("Markdown", () => {
  it("When the report is long, then it stays within GitHub's 65,536 characters and says what it cut", () => {
    const report = buildReport([hugePlan(2_000)], { env: "prod", stack: "prod-network" });
    const markdown = renderMarkdown(report, { fullReportHint: "the artifact `drift-prod-network`" });
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    expect(markdown).toMatch(
      /\*\*Truncated\*\* to fit GitHub's 65,536-character limit: overview of \d+ of 2000 resources and details of \d+ of 2000 shown\. The full report is in the artifact `drift-prod-network`\./,
    );
    expect(markdown).toContain("`aws_security_group.group_0`");
  });

  it("When space is short, then overview rows go in before details", () => {
    const report = buildReport([hugePlan(300)]);
    const markdown = renderMarkdown(report, { limit: 40_000 });
    const rows = markdown.split("\n").filter((line) => line.startsWith("| high | `aws_security_group."));
    expect(rows).toHaveLength(300);
    expect(markdown).toMatch(/overview of 300 of 300 resources and details of \d+ of 300 shown/);
  });

  it("When a value is very long, then the cell is shortened and ends with an ellipsis", () => {
    const markdown = renderMarkdown(buildReport([hugePlan(1)]));
    expect(markdown).toContain(`\`"${"a".repeat(299)}…\``);
  });

  it("When a value holds a pipe or a backtick, then the table cell stays intact", () => {
    const plan = hugePlan(1);
    const change = plan.resource_changes?.[0]?.change;
    if (change) change.after = { description: "a | b `c`", name: "g" };
    const markdown = renderMarkdown(buildReport([plan]));
    expect(markdown).toContain("<code>&quot;a &#124; b &#96;c&#96;&quot;</code>".replace(/&quot;/g, '"'));
  });
});

describe("JSON", () => {
  it("When rendered as JSON, then a summary holds drifted, pending and counts by severity, and it reads back", () => {
    const report = reportOf(["drift.json", "replace-stateful.json"], { env: "dev", stack: "dev-data" });
    const json = JSON.parse(renderJson(report));
    expect(json.summary).toMatchObject({
      drifted: 4,
      pending: 3,
      severity: { critical: 3, high: 1, medium: 2, low: 1 },
      driftSeverity: { critical: 1, high: 1, medium: 1, low: 1 },
      pendingSeverity: { critical: 2, high: 0, medium: 1, low: 0 },
    });
    expect(parseReport(json, "report.json")).toEqual(report);
  });
});

describe("Prometheus", () => {
  it("When rendered for Prometheus, then every severity has a series (zeros included) plus the run time", () => {
    const report = reportOf("drift.json", { env: "dev", stack: "dev-data" });
    expect(renderPrometheus(report, new Date("2030-01-01T00:00:00Z")).split("\n")).toEqual([
      "# HELP terraform_drift_resources Resources changed outside Terraform (refresh-only plan), not ignored, by severity.",
      "# TYPE terraform_drift_resources gauge",
      'terraform_drift_resources{env="dev",stack="dev-data",severity="critical"} 1',
      'terraform_drift_resources{env="dev",stack="dev-data",severity="high"} 1',
      'terraform_drift_resources{env="dev",stack="dev-data",severity="medium"} 1',
      'terraform_drift_resources{env="dev",stack="dev-data",severity="low"} 1',
      "# HELP terraform_drift_last_run_timestamp_seconds When the plan behind the last drift report ran, in Unix seconds.",
      "# TYPE terraform_drift_last_run_timestamp_seconds gauge",
      'terraform_drift_last_run_timestamp_seconds{env="dev",stack="dev-data"} 1772431200',
      "",
    ]);
  });

  it("When only pending changes exist, then the drift series are all zero", () => {
    const text = renderPrometheus(
      reportOf("replace-stateful.json", { env: "dev", stack: "dev-data" }),
      new Date(),
    );
    expect(text.match(/^terraform_drift_resources\{.*\} 0$/gm)).toHaveLength(4);
  });

  it("When a label value holds quotes or backslashes, then they are escaped", () => {
    const text = renderPrometheus(reportOf("noop.json", { env: 'd"e\\v', stack: "s" }), new Date());
    expect(text).toContain('env="d\\"e\\\\v"');
  });

  it("When env or stack is missing, then rendering fails saying both are needed", () => {
    expect(() => renderPrometheus(reportOf("noop.json"), new Date())).toThrow(/needs --env and --stack/);
  });
});

describe("PR comment", () => {
  const plans = [
    {
      stack: "dev-network",
      report: reportOf("create-update-delete.json", { env: "dev", stack: "dev-network" }),
    },
    { stack: "dev-data", report: reportOf("replace-stateful.json", { env: "dev", stack: "dev-data" }) },
    { stack: "prod-network", report: reportOf("noop.json", { env: "prod", stack: "prod-network" }) },
    { stack: "prod-data", report: null },
  ];

  it("When plans of several stacks are combined, then one table shows add, change, destroy, replace and drift per stack", () => {
    const comment = renderComment(plans, { runUrl: "https://github.example/run/1", commit: "abc1234" });
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
    expect(comment).toContain("| Stack | Add | Change | Destroy | Replace | Drift |");
    expect(comment).toContain("| `dev-network` | 1 | 4 | 1 | 0 | 0 |");
    expect(comment).toContain("| `dev-data` | 0 | 0 | 1 | 2 | 0 |");
    expect(comment).toContain("| `prod-network` | 0 | 0 | 0 | 0 | 0 |");
    expect(comment).toContain("| `prod-data` | plan failed | | | | |");
    expect(comment).toContain("**This plan destroys or replaces resources.**");
    expect(comment).toContain(
      "<details><summary><code>dev-data</code>: 1 to destroy, 2 to replace</summary>",
    );
    expect(comment).toContain("<details><summary><code>prod-network</code>: no changes</summary>");
  });

  it("When the comment would be too long, then it is cut to fit and points at the artifact", () => {
    const big = [1, 2, 3].map((n) => ({
      stack: `prod-layer${n}`,
      report: buildReport([hugePlan(800)], { env: "prod", stack: `prod-layer${n}` }),
    }));
    const comment = renderComment(big, { runUrl: "https://github.example/run/2" });
    expect(comment.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    for (const n of [1, 2, 3]) {
      expect(comment).toContain(`<code>prod-layer${n}</code>: 800 to change`);
      expect(comment).toContain(
        `The full report is in the artifact \`plan-prod-layer${n}\` of [this workflow run](https://github.example/run/2).`,
      );
    }
  });

  it("When totals are computed, then they drive the destroy and no-changes labels", () => {
    expect(totals(plans)).toEqual({
      add: 1,
      change: 4,
      destroy: 2,
      replace: 2,
      drift: 0,
      other: 1,
      failed: ["prod-data"],
    });
  });
});
