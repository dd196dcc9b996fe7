import { TerraformStack, Testing } from "cdktf";
import type { Construct } from "constructs";

/** Synthesized Terraform JSON of a stack: resources and data sources by type, then by logical id. */
export interface SynthesizedStack {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown; description?: string }>;
  readonly terraform: { backend?: Record<string, Record<string, unknown>> };
  readonly provider?: Record<string, Array<Record<string, unknown>>>;
}

/** Synthesizes what `build` adds to a fresh stack and returns the parsed JSON. */
export function synthConstruct(build: (scope: Construct) => void): SynthesizedStack {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  build(stack);
  return parse(Testing.synth(stack));
}

/** A construct class taking a scope, an id and one props object. */
type ConstructClass<P> = new (scope: Construct, id: string, props: P) => Construct;

/**
 * Synthesizes one construct from `defaults`, each test overriding only what it is about:
 * `const build = synthesizer(Kafka, "Kafka", minimal)`, then `build({ brokerCount: 2 })`.
 */
export function synthesizer<P extends object>(
  type: ConstructClass<P>,
  id: string,
  defaults: P,
): (overrides?: Partial<P>) => SynthesizedStack {
  return (overrides = {}) => synthConstruct((scope) => new type(scope, id, { ...defaults, ...overrides }));
}

export function parse(json: string): SynthesizedStack {
  const parsed = JSON.parse(json) as Partial<SynthesizedStack>;
  return {
    resource: parsed.resource ?? {},
    data: parsed.data ?? {},
    output: parsed.output,
    terraform: parsed.terraform ?? {},
    provider: parsed.provider,
  };
}

/** All resources of one type, as an array of their attribute objects. */
export function resourcesOf(stack: SynthesizedStack, type: string): Record<string, unknown>[] {
  return Object.values(stack.resource[type] ?? {});
}

/** The single resource of a type; fails when there is not exactly one. */
export function onlyResource(stack: SynthesizedStack, type: string): Record<string, unknown> {
  const all = resourcesOf(stack, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0] as Record<string, unknown>;
}

/** Statements of every aws_iam_policy_document data source in the stack. */
export function policyStatements(stack: SynthesizedStack): Record<string, unknown>[] {
  return Object.values(stack.data.aws_iam_policy_document ?? {}).flatMap(
    (doc) => (doc.statement as Record<string, unknown>[] | undefined) ?? [],
  );
}
