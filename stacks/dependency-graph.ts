import type { SynthesizedStack } from "../modules/testing/synth";

/** A resource's address across stacks: `<stack>/<type>.<name>`. */
export type NodeId = string;

/** One reference found in an expression: `type.name` followed by the attribute path. */
export interface Reference {
  readonly type: string;
  readonly name: string;
  readonly data: boolean;
  /** What follows the address, e.g. `.action[0].target_group_arn` or `[*].fqdn`. */
  readonly path: string;
}

const REFERENCE =
  /(?<![\w.-])(data\.)?((?:aws|kubernetes|terraform)_[a-z0-9_]+)\.([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_*]+|\[[^\]]*\])*)/g;
const REMOTE_OUTPUT = /data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g;

/** Every `${...}` expression in a value, however deeply nested. */
export function expressionsIn(value: unknown): string[] {
  if (typeof value === "string") return interpolations(value);
  if (Array.isArray(value)) return value.flatMap(expressionsIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(expressionsIn);
  return [];
}

/** The bodies of the `${...}` interpolations of one string, braces inside them balanced. */
function interpolations(text: string): string[] {
  const out: string[] = [];
  let start = text.indexOf("${");
  while (start !== -1) {
    let depth = 0;
    let end = start + 1;
    for (; end < text.length; end++) {
      if (text[end] === "{") depth++;
      else if (text[end] === "}" && --depth === 0) break;
    }
    out.push(text.slice(start + 2, end));
    start = text.indexOf("${", end);
  }
  return out;
}

/** The resource and data source references of an expression (remote state outputs excluded). */
export function referencesIn(expression: string): Reference[] {
  return [...expression.matchAll(REFERENCE)]
    .filter((m) => m[2] !== "terraform_remote_state")
    .map((m) => ({ data: m[1] !== undefined, type: m[2] ?? "", name: m[3] ?? "", path: m[4] ?? "" }));
}

/**
 * What each resource of every stack depends on, directly: its references and `depends_on`, and
 * through a remote state output, whatever that output's expression references in its own stack.
 * Stacks are linked by the state key of their remote state data sources (`<env>/<layer>.tfstate`).
 */
export class DependencyGraph {
  private readonly edges = new Map<NodeId, Set<NodeId>>();

  constructor(private readonly stacks: ReadonlyMap<string, SynthesizedStack>) {
    for (const [stackId, stack] of stacks) {
      for (const [type, byName] of Object.entries(stack.resource)) {
        for (const [name, body] of Object.entries(byName)) {
          this.edges.set(`${stackId}/${type}.${name}`, this.direct(stackId, stack, body));
        }
      }
    }
  }

  /** Every resource of every stack with its body. */
  *resources(): Generator<{ id: NodeId; stackId: string; type: string; body: Record<string, unknown> }> {
    for (const [stackId, stack] of this.stacks) {
      for (const [type, byName] of Object.entries(stack.resource)) {
        for (const [name, body] of Object.entries(byName))
          yield { id: `${stackId}/${type}.${name}`, stackId, type, body };
      }
    }
  }

  /** Types of everything `id` depends on, directly or not. */
  dependencyTypesOf(id: NodeId): Set<string> {
    const seen = new Set<NodeId>();
    const pending = [...(this.edges.get(id) ?? [])];
    while (pending.length > 0) {
      const next = pending.pop() as NodeId;
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(...(this.edges.get(next) ?? []));
    }
    return new Set([...seen].map((n) => n.slice(n.indexOf("/") + 1).split(".")[0] as string));
  }

  private direct(stackId: string, stack: SynthesizedStack, body: Record<string, unknown>): Set<NodeId> {
    const { depends_on: dependsOn, "//": _metadata, ...rest } = body;
    const out = new Set<NodeId>();
    for (const address of (dependsOn as string[] | undefined) ?? []) out.add(`${stackId}/${address}`);
    for (const expression of expressionsIn(rest)) {
      for (const ref of referencesIn(expression)) {
        if (!ref.data) out.add(`${stackId}/${ref.type}.${ref.name}`);
      }
      for (const [, input, output] of expression.matchAll(REMOTE_OUTPUT)) {
        const producer = this.producerOf(stack, input ?? "");
        const value = producer && this.stacks.get(producer)?.output?.[output ?? ""]?.value;
        for (const e of expressionsIn(value)) {
          for (const ref of referencesIn(e)) if (!ref.data) out.add(`${producer}/${ref.type}.${ref.name}`);
        }
      }
    }
    return out;
  }

  private producerOf(stack: SynthesizedStack, input: string): string | undefined {
    const config = (stack.data.terraform_remote_state?.[input]?.config ?? {}) as { key?: string };
    const match = /^([^/]+)\/([^/]+)\.tfstate$/.exec(config.key ?? "");
    return match ? `${match[1]}-${match[2]}` : undefined;
  }
}
