import { z } from "zod";
import { DriftToolError } from "./errors";

/**
 * The subset of `terraform show -json <planfile>` this tool reads. Unknown fields are ignored, as
 * Terraform's JSON output format asks of consumers for minor format versions.
 */
const changeSchema = z.object({
  actions: z.array(z.string()).min(1),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  after_unknown: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
  replace_paths: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
  importing: z.object({ id: z.string().optional() }).optional(),
});

const resourceChangeSchema = z.object({
  address: z.string(),
  previous_address: z.string().optional(),
  mode: z.string(),
  type: z.string(),
  name: z.string(),
  deposed: z.string().optional(),
  change: changeSchema,
  action_reason: z.string().optional(),
});

const planSchema = z.object({
  format_version: z.string(),
  terraform_version: z.string().optional(),
  resource_changes: z.array(resourceChangeSchema).optional(),
  resource_drift: z.array(resourceChangeSchema).optional(),
  timestamp: z.string().optional(),
  complete: z.boolean().optional(),
  errored: z.boolean().optional(),
});

export type ResourceChange = z.infer<typeof resourceChangeSchema>;
export type Plan = z.infer<typeof planSchema>;

/**
 * Major version of the plan JSON format this tool understands. Terraform promises that minor
 * versions only add fields, so any 1.x is read; a new major version means the shape changed.
 */
export const SUPPORTED_FORMAT_MAJOR = 1;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Parses and validates the text of `terraform show -json <planfile>`; `source` names it in errors. */
export function parsePlan(text: string, source: string): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DriftToolError(
      `${source} is not JSON (${error instanceof Error ? error.message : String(error)}); ` +
        "expected the output of `terraform show -json <planfile>`",
    );
  }
  if (!isRecord(raw) || typeof raw.format_version !== "string") {
    throw new DriftToolError(
      `${source} is not Terraform JSON output: it has no "format_version"; ` +
        "expected the output of `terraform show -json <planfile>`",
    );
  }
  const major = Number(raw.format_version.split(".")[0]);
  if (!/^\d+\.\d+$/.test(raw.format_version) || major !== SUPPORTED_FORMAT_MAJOR) {
    throw new DriftToolError(
      `${source} has plan format_version "${raw.format_version}", which this tool does not know; ` +
        `it reads format ${SUPPORTED_FORMAT_MAJOR}.x (Terraform 1.x). Update tools/drift for the new format.`,
    );
  }
  if (!("planned_values" in raw) && !("resource_changes" in raw) && !("resource_drift" in raw)) {
    const hint =
      "values" in raw
        ? "it looks like state (`terraform show -json` without a plan file)"
        : "it has none of planned_values, resource_changes or resource_drift";
    throw new DriftToolError(
      `${source} is not a plan: ${hint}; run \`terraform plan -out=tfplan\` and \`terraform show -json tfplan\``,
    );
  }
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DriftToolError(`${source} is not a valid plan:\n${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.errored) {
    throw new DriftToolError(
      `${source} is the plan of a failed run ("errored": true); fix the plan errors first`,
    );
  }
  return parsed.data;
}
