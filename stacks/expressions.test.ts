import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { expressionsIn, referencesIn } from "./dependency-graph";
import { synthAll } from "./synth-all";

// Expressions Terraform accepts at synth time but rejects at plan: a splat over a for_each resource
// (a map of objects, not a list), and an attribute the resource type does not have.
const stacks = synthAll(ENVIRONMENTS);

const load = createRequire(__filename);

const PROVIDER_PACKAGES: Record<string, string> = {
  aws: "@cdktf/provider-aws/lib",
  kubernetes: "@cdktf/provider-kubernetes/lib",
};

/** Attribute names (snake_case) the construct class of a resource or data source type exposes. */
function attributesOf(type: string, data: boolean): Set<string> | undefined {
  const [provider, ...rest] = type.split("_");
  const base = PROVIDER_PACKAGES[provider ?? ""];
  if (!base) return undefined;
  const path = data ? `${base}/data-${type.replaceAll("_", "-")}` : `${base}/${rest.join("-")}`;
  let module: Record<string, unknown>;
  try {
    module = load(path) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const construct = Object.values(module).find(
    (v) => typeof v === "function" && (v as { tfResourceType?: string }).tfResourceType === type,
  ) as { prototype: object } | undefined;
  if (!construct) return undefined;
  const names = new Set<string>();
  for (
    let proto: object | null = construct.prototype;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (descriptor.get) names.add(key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
    }
  }
  return names;
}

const cache = new Map<string, Set<string> | undefined>();
const attributes = (type: string, data: boolean) => {
  const key = `${data}:${type}`;
  if (!cache.has(key)) cache.set(key, attributesOf(type, data));
  return cache.get(key);
};

describe("expressions", () => {
  it("When a for_each resource is read, then never through a splat, which Terraform rejects (Unsupported attribute)", () => {
    const problems: string[] = [];
    for (const [stackId, stack] of stacks) {
      for (const expression of expressionsIn({
        resource: stack.resource,
        data: stack.data,
        output: stack.output,
      })) {
        for (const ref of referencesIn(expression)) {
          const target = (ref.data ? stack.data : stack.resource)[ref.type]?.[ref.name];
          if (target?.for_each !== undefined && /^(\[\*\]|\.\*)/.test(ref.path)) {
            problems.push(`${stackId}: ${ref.type}.${ref.name}${ref.path} in \${${expression}}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("When an expression reads an attribute, then the resource type has it", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [stackId, stack] of stacks) {
      for (const expression of expressionsIn({
        resource: stack.resource,
        data: stack.data,
        output: stack.output,
      })) {
        for (const ref of referencesIn(expression)) {
          const attribute = /^(?:\[[^\]]*\])?\.([a-z0-9_]+)/.exec(ref.path)?.[1];
          const known = attribute && attributes(ref.type, ref.data);
          if (!known) continue;
          checked++;
          if (!known.has(attribute)) problems.push(`${stackId}: ${ref.type}.${ref.name}.${attribute}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });
});
