import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { comparePending } from "./compare";
import { DriftToolError, UsageError } from "./errors";
import { loadIgnoreFile } from "./ignore";
import { parsePlan } from "./plan";
import { renderComment, type StackPlan, totals } from "./render/comment";
import { renderJson } from "./render/json";
import { GITHUB_BODY_LIMIT, renderMarkdown } from "./render/markdown";
import { renderPrometheus } from "./render/prometheus";
import { buildReport, hasFindings, parseReport, REPORT_KIND, type Report } from "./report";
import { listStacks } from "./stacks";

/** Exit codes: 0 clean (or equal), 2 drift, changes or differences found, 1 error. */
export const EXIT = { clean: 0, error: 1, found: 2 } as const;

const USAGE = `Usage:
  drift --plan <file> [--plan <file>] [--format markdown|json|prometheus] [--ignore <file>]
        [--env <name>] [--stack <name>] [--output <file>] [--limit <chars>] [--full-report <where>]
      Report drift (resource_drift) and pending changes (resource_changes) of one stack from
      \`terraform show -json\` output. Several --plan files (refresh-only and normal plan of the
      same stack) are merged. Markdown stays within --limit characters (65536), naming
      --full-report as the place of the full report when cut.
      Exit 0 when clean, 2 when drift or changes were found, 1 on error.
  drift comment --plans-dir <dir> [--expect <stack>]... [--run-url <url>] [--commit <sha>]
        [--artifact-prefix <prefix>] [--summary-out <file>] [--output <file>]
      Render the sticky PR comment from every plan JSON or JSON report under <dir>.
  drift stacks [--manifest cdktf.out/manifest.json] [--env <name>]
      Print the per-environment stacks, dependencies first, as a JSON array for a workflow matrix.
  drift compare --reviewed <report.json> --plan <plan.json|report.json>
      Compare the pending changes of a reviewed plan with a new one. Exit 0 when equal, 2 when not.`;

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new DriftToolError(
      `cannot read ${what} ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Reads a plan JSON or a report JSON this tool wrote, into a report. */
function readReport(file: string, stack: string | undefined): Report {
  const text = readText(file, "plan file");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return buildReport([parsePlan(text, file)]);
  }
  if (typeof raw === "object" && raw !== null && (raw as { kind?: unknown }).kind === REPORT_KIND) {
    return parseReport(raw, file);
  }
  const env = stack?.split("-")[0];
  return buildReport([parsePlan(text, file)], { ...(stack ? { stack } : {}), ...(env ? { env } : {}) });
}

function write(output: string | undefined, text: string): void {
  if (output) fs.writeFileSync(output, text);
  else process.stdout.write(text);
}

function runReport(args: string[], now: Date): number {
  const { values } = parseArgs({
    args,
    options: {
      plan: { type: "string", multiple: true },
      format: { type: "string", default: "markdown" },
      ignore: { type: "string" },
      env: { type: "string" },
      stack: { type: "string" },
      output: { type: "string", short: "o" },
      limit: { type: "string" },
      "full-report": { type: "string" },
    },
    strict: true,
  });
  if (!values.plan?.length) throw new UsageError("--plan <file> is required");
  const limit = values.limit === undefined ? GITHUB_BODY_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1_000 || limit > GITHUB_BODY_LIMIT) {
    throw new UsageError(
      `--limit must be a whole number from 1000 to ${GITHUB_BODY_LIMIT}, got "${values.limit}"`,
    );
  }
  const format = values.format;
  if (format !== "markdown" && format !== "json" && format !== "prometheus") {
    throw new UsageError(`unknown --format "${format}"; use markdown, json or prometheus`);
  }
  const ignore = values.ignore ? loadIgnoreFile(values.ignore, now) : [];
  const plans = values.plan.map((file) => parsePlan(readText(file, "plan file"), file));
  const report = buildReport(plans, {
    ignore,
    ...(values.env ? { env: values.env } : {}),
    ...(values.stack ? { stack: values.stack } : {}),
  });
  const text =
    format === "json"
      ? renderJson(report)
      : format === "prometheus"
        ? renderPrometheus(report, now)
        : `${renderMarkdown(report, {
            limit: limit - 1,
            ...(values["full-report"] ? { fullReportHint: values["full-report"] } : {}),
          })}\n`;
  write(values.output, text);
  return hasFindings(report) ? EXIT.found : EXIT.clean;
}

function jsonFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new DriftToolError(`--plans-dir ${dir} is not a directory`);
  }
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".json"))
    .map((name) => path.join(dir, name))
    .sort();
}

/** `plans/plan-dev-network/report.json` and `plans/dev-network.json` both name `dev-network`. */
function stackFromPath(file: string, prefix: string): string {
  const base = path.basename(file, ".json");
  const name = base === "plan" || base === "report" ? path.basename(path.dirname(file)) : base;
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

function runComment(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      "plans-dir": { type: "string" },
      expect: { type: "string", multiple: true },
      "run-url": { type: "string" },
      commit: { type: "string" },
      "artifact-prefix": { type: "string", default: "plan-" },
      "summary-out": { type: "string" },
      output: { type: "string", short: "o" },
    },
    strict: true,
  });
  if (!values["plans-dir"]) throw new UsageError("--plans-dir <dir> is required");
  const prefix = values["artifact-prefix"];
  const found = new Map<string, Report>();
  for (const file of jsonFiles(values["plans-dir"])) {
    const fromPath = stackFromPath(file, prefix);
    const report = readReport(file, fromPath);
    const stack = report.stack ?? fromPath;
    if (found.has(stack))
      throw new DriftToolError(`two plans for stack ${stack} under ${values["plans-dir"]}`);
    found.set(stack, report);
  }
  const expected = (values.expect ?? []).flatMap((s) => s.split(",")).filter(Boolean);
  const order = [...expected, ...[...found.keys()].filter((s) => !expected.includes(s)).sort()];
  if (order.length === 0) throw new DriftToolError(`no plan JSON under ${values["plans-dir"]}`);
  const plans: StackPlan[] = order.map((stack) => ({ stack, report: found.get(stack) ?? null }));
  write(
    values.output,
    renderComment(plans, {
      ...(values["run-url"] ? { runUrl: values["run-url"] } : {}),
      ...(values.commit ? { commit: values.commit } : {}),
      artifactPrefix: prefix,
    }),
  );
  if (values["summary-out"]) fs.writeFileSync(values["summary-out"], `${JSON.stringify(totals(plans))}\n`);
  return EXIT.clean;
}

function runStacks(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      manifest: { type: "string", default: "cdktf.out/manifest.json" },
      env: { type: "string" },
    },
    strict: true,
  });
  process.stdout.write(`${JSON.stringify(listStacks(values.manifest, values.env))}\n`);
  return EXIT.clean;
}

function runCompare(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { reviewed: { type: "string" }, plan: { type: "string" } },
    strict: true,
  });
  if (!values.reviewed || !values.plan)
    throw new UsageError("--reviewed <file> and --plan <file> are required");
  const differences = comparePending(
    readReport(values.reviewed, undefined),
    readReport(values.plan, undefined),
  );
  if (differences.length === 0) {
    process.stdout.write("The plan matches the reviewed plan.\n");
    return EXIT.clean;
  }
  process.stdout.write(
    `The plan differs from the reviewed plan:\n${differences.map((d) => `  ${d}`).join("\n")}\n`,
  );
  return EXIT.found;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export function main(argv: readonly string[], now = new Date()): number {
  const [first, ...rest] = argv;
  try {
    if (first === "--help" || first === "-h" || first === "help") {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.clean;
    }
    switch (first) {
      case "comment":
        return runComment(rest);
      case "stacks":
        return runStacks(rest);
      case "compare":
        return runCompare(rest);
      case "report":
        return runReport(rest, now);
      default:
        if (first !== undefined && !first.startsWith("-")) {
          throw new UsageError(`unknown command "${first}"`);
        }
        return runReport([...argv], now);
    }
  } catch (error) {
    if (error instanceof UsageError || isArgError(error)) {
      process.stderr.write(`drift: ${(error as Error).message}\n\n${USAGE}\n`);
      return EXIT.error;
    }
    if (error instanceof DriftToolError) {
      process.stderr.write(`drift: ${error.message}\n`);
      return EXIT.error;
    }
    throw error;
  }
}

/** parseArgs rejects unknown options and missing values with these error codes. */
const isArgError = (error: unknown) => {
  const code: unknown = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
};

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(
      `drift: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.error;
  }
}
