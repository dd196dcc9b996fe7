import fs from "node:fs";
import path from "node:path";
import { Testing } from "cdktf";
import type { EnvironmentConfig } from "../environments";
import { parse, type SynthesizedStack } from "../modules/testing/synth";
import { type BuildOptions, buildStacks } from "./app";

/**
 * Every stack of the given environments, synthesized exactly as `cdktf synth` does (so cross-stack
 * references become remote state), into a temporary folder: stack id -> Terraform JSON.
 */
export function synthAll(
  environments: readonly EnvironmentConfig[],
  options: BuildOptions = {},
): Map<string, SynthesizedStack> {
  const app = buildStacks(Testing.app(), environments, options);
  app.synth();
  const stacks = new Map<string, SynthesizedStack>();
  for (const stack of app.node.children) {
    const file = path.join(app.outdir, "stacks", stack.node.id, "cdk.tf.json");
    stacks.set(stack.node.id, parse(fs.readFileSync(file, "utf8")));
  }
  fs.rmSync(app.outdir, { recursive: true, force: true });
  return stacks;
}
