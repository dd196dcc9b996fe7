import fs from "node:fs";
import path from "node:path";
import { Testing } from "cdktf";
import { ENVIRONMENTS } from "../../../environments";
import { buildStacks } from "../../../stacks/app";

/**
 * What the diagram needs of one synthesized stack, read from the Terraform JSON that `cdktf synth`
 * writes (never from construct classes, so refactoring the stacks does not break the diagram).
 */
export interface StackData {
  /** Stack id, e.g. `dev-network`. */
  readonly name: string;
  /** Environment the stack belongs to, e.g. `dev`. */
  readonly env: string;
  /** Resource types declared by the stack, with how many of each. */
  readonly resourceTypes: ReadonlyMap<string, number>;
  /** Stacks whose outputs this one reads (terraform_remote_state), by stack id, sorted. */
  readonly readsFrom: readonly string[];
}

interface ManifestJson {
  readonly stacks: Record<string, { readonly synthesizedStackPath: string }>;
}

interface StackJson {
  readonly resource?: Record<string, Record<string, unknown>>;
  readonly data?: { terraform_remote_state?: Record<string, { backend?: string; config?: StateLocation }> };
  readonly terraform?: { backend?: { s3?: StateLocation } };
}

interface StateLocation {
  readonly bucket?: string;
  readonly key?: string;
}

/** Synthesizes every environment in memory (as `npm run synth` does) and reads the result. */
export function synthesizeStacks(): StackData[] {
  const app = buildStacks(Testing.app(), ENVIRONMENTS);
  app.synth();
  try {
    return readSynthesized(
      app.outdir,
      ENVIRONMENTS.map((e) => e.name),
    );
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

/**
 * Reads a synthesized output folder (`cdktf.out` or an in-memory app's outdir). A stack's
 * environment is the longest environment name that prefixes its id.
 */
export function readSynthesized(outdir: string, environments: readonly string[]): StackData[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8")) as ManifestJson;
  const stacks = Object.entries(manifest.stacks).map(([name, entry]) => ({
    name,
    json: JSON.parse(fs.readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8")) as StackJson,
  }));
  // A remote state points at a stack by its S3 state location; map locations back to stack ids.
  const byState = new Map<string, string>();
  for (const { name, json } of stacks) {
    const s3 = json.terraform?.backend?.s3;
    if (s3?.key) byState.set(stateId(s3), name);
  }
  return stacks
    .map(({ name, json }) => {
      const env = [...environments].sort((a, b) => b.length - a.length).find((e) => name.startsWith(`${e}-`));
      if (!env)
        throw new Error(`stack "${name}" belongs to none of the environments ${environments.join(", ")}`);
      const readsFrom = Object.values(json.data?.terraform_remote_state ?? {})
        .map((remote) => (remote.config ? byState.get(stateId(remote.config)) : undefined))
        .filter((id): id is string => id !== undefined);
      return {
        name,
        env,
        resourceTypes: new Map(
          Object.entries(json.resource ?? {}).map(([type, byId]) => [type, Object.keys(byId).length]),
        ),
        readsFrom: [...new Set(readsFrom)].sort(),
      };
    })
    .sort(
      (a, b) => environments.indexOf(a.env) - environments.indexOf(b.env) || a.name.localeCompare(b.name),
    );
}

function stateId(location: StateLocation): string {
  return `${location.bucket ?? ""}/${location.key ?? ""}`;
}
