import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";

/**
 * Terraform addresses of synthesized stacks, to prove a refactoring moves nothing: users may have
 * applied these stacks, and a changed address destroys and recreates the resource.
 * `npx tsx stacks/terraform-addresses.ts <before>/stacks <after>/stacks` prints the differences.
 */

type Sections = Record<string, Record<string, Record<string, unknown>>>;

/** Resource types whose replacement loses data or identity; their addresses must never change. */
export const STATEFUL_TYPES = [
  "aws_db_instance",
  "aws_msk_cluster",
  "aws_kms_key",
  "aws_s3_bucket",
  "aws_dynamodb_table",
  "aws_eks_cluster",
  "aws_secretsmanager_secret",
  "aws_ecr_repository",
  "aws_cloudwatch_log_group",
  "aws_cognito_user_pool",
] as const;

/** Every block of a stack by address (`aws_vpc.Network_Vpc_1A2B`, `data.x.y`, `output.z`), without cdktf's metadata. */
export function addressesOf(json: {
  resource?: Sections;
  data?: Sections;
  output?: Record<string, unknown>;
}) {
  const out = new Map<string, unknown>();
  const strip = (body: Record<string, unknown>) => {
    const { "//": _metadata, ...rest } = body;
    return rest;
  };
  for (const [type, byId] of Object.entries(json.resource ?? {}))
    for (const [id, body] of Object.entries(byId)) out.set(`${type}.${id}`, strip(body));
  for (const [type, byId] of Object.entries(json.data ?? {}))
    for (const [id, body] of Object.entries(byId)) out.set(`data.${type}.${id}`, strip(body));
  for (const [id, body] of Object.entries(json.output ?? {})) out.set(`output.${id}`, body);
  return out;
}

export interface StackDiff {
  readonly added: string[];
  readonly removed: string[];
  /** Same address, different attributes. */
  readonly changed: string[];
}

export function diffAddresses(before: Map<string, unknown>, after: Map<string, unknown>): StackDiff {
  return {
    added: [...after.keys()].filter((a) => !before.has(a)).sort(),
    removed: [...before.keys()].filter((a) => !after.has(a)).sort(),
    changed: [...after.keys()]
      .filter((a) => before.has(a) && !isDeepStrictEqual(before.get(a), after.get(a)))
      .sort(),
  };
}

function readStacks(dir: string): Map<string, Map<string, unknown>> {
  const stacks = new Map<string, Map<string, unknown>>();
  for (const stack of fs.readdirSync(dir).sort()) {
    const json = JSON.parse(fs.readFileSync(path.join(dir, stack, "cdk.tf.json"), "utf8"));
    stacks.set(stack, addressesOf(json));
  }
  return stacks;
}

if (require.main === module) {
  const [beforeDir, afterDir] = process.argv.slice(2);
  if (!beforeDir || !afterDir)
    throw new Error("usage: terraform-addresses.ts <before>/stacks <after>/stacks");
  const before = readStacks(beforeDir);
  const after = readStacks(afterDir);
  for (const stack of new Set([...before.keys(), ...after.keys()])) {
    const diff = diffAddresses(before.get(stack) ?? new Map(), after.get(stack) ?? new Map());
    if (diff.added.length + diff.removed.length + diff.changed.length === 0) {
      console.log(`${stack}: unchanged`);
      continue;
    }
    console.log(`${stack}:`);
    for (const [sign, list] of [
      ["+", diff.added],
      ["-", diff.removed],
      ["~", diff.changed],
    ] as const)
      for (const address of list) console.log(`  ${sign} ${address}`);
  }
}
