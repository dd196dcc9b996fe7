import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DriftToolError } from "./errors";

const manifestSchema = z.object({
  stacks: z.record(
    z.string(),
    z.object({
      name: z.string(),
      dependencies: z.array(z.string()).default([]),
      synthesizedStackPath: z.string(),
      workingDirectory: z.string(),
    }),
  ),
});

const stackConfigSchema = z.object({
  provider: z
    .object({
      aws: z
        .array(
          z.object({ region: z.string().optional(), allowed_account_ids: z.array(z.string()).optional() }),
        )
        .optional(),
    })
    .optional(),
});

/** One stack to plan, apply or check for drift, as the workflows' matrix needs it. */
export interface StackTarget {
  readonly stack: string;
  readonly env: string;
  /** Working directory, relative to the repository root. */
  readonly dir: string;
  /** The AWS account the stack's provider is pinned to (`allowed_account_ids`). */
  readonly account: string;
  readonly region: string;
}

const STACK_ID = /^([a-z0-9]+)-([a-z0-9-]+)$/;

/** Layers applied by a person with administrator credentials, never by the pipelines. */
const MANUAL_LAYERS = new Set(["bootstrap"]);

/**
 * Lists the synthesized per-environment stacks from `cdktf.out/manifest.json`, dependencies
 * first, with the account and region their AWS provider is pinned to. The bootstrap stacks
 * (state backend and the pipelines' own roles) and ids that are not `<env>-<layer>` are left out:
 * they are applied by hand.
 */
export function listStacks(manifestFile: string, env?: string): StackTarget[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  } catch (error) {
    throw new DriftToolError(
      `cannot read ${manifestFile}: ${error instanceof Error ? error.message : String(error)}; run \`npm run synth\` first`,
    );
  }
  const manifest = manifestSchema.safeParse(raw);
  if (!manifest.success) {
    throw new DriftToolError(`${manifestFile} is not a cdktf manifest:\n${z.prettifyError(manifest.error)}`);
  }
  const root = path.dirname(manifestFile);
  const stacks = manifest.data.stacks;
  const ordered: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, from: string[]) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      throw new DriftToolError(`stack dependency cycle: ${[...from, id].join(" -> ")}`);
    }
    state.set(id, "visiting");
    for (const dep of stacks[id]?.dependencies ?? []) visit(dep, [...from, id]);
    state.set(id, "done");
    ordered.push(id);
  };
  for (const id of Object.keys(stacks).sort()) visit(id, []);

  const targets: StackTarget[] = [];
  for (const id of ordered) {
    const entry = stacks[id];
    const match = STACK_ID.exec(id);
    if (!entry || !match?.[1] || !match[2] || MANUAL_LAYERS.has(match[2])) continue;
    if (env !== undefined && match[1] !== env) continue;
    const configFile = path.join(root, entry.synthesizedStackPath);
    const config = stackConfigSchema.safeParse(JSON.parse(fs.readFileSync(configFile, "utf8")));
    const aws = config.success ? config.data.provider?.aws?.[0] : undefined;
    const account = aws?.allowed_account_ids?.[0];
    if (!aws?.region || !account) {
      throw new DriftToolError(
        `${configFile}: the AWS provider needs region and allowed_account_ids; the workflows derive the role to assume from them`,
      );
    }
    targets.push({
      stack: id,
      env: match[1],
      dir: path.relative(process.cwd(), path.join(root, entry.workingDirectory)) || ".",
      account,
      region: aws.region,
    });
  }
  return targets;
}
