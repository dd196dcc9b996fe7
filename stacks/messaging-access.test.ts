import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { policyStatements } from "../modules/testing/synth";
import { synthAll } from "./synth-all";

const stacks = synthAll(ENVIRONMENTS);

describe.each(ENVIRONMENTS.map((e) => [e.name] as const))("messaging access in %s", (name) => {
  it("When a service produces, then its role may start an idempotent producer on the cluster itself", () => {
    const compute = stacks.get(`${name}-compute`);
    if (!compute) throw new Error(`no ${name}-compute stack`);
    const idempotent = policyStatements(compute).filter((s) =>
      (s.actions as string[]).includes("kafka-cluster:WriteDataIdempotently"),
    );
    expect(idempotent.length).toBeGreaterThan(0);
    for (const statement of idempotent) {
      // AWS evaluates the action against the cluster ARN; a topic ARN never matches it.
      for (const resource of statement.resources as string[]) {
        expect(resource).not.toContain(":topic/");
        expect(resource).toMatch(/kafka_cluster_arn|aws_msk_cluster|cross-stack-output-aws_msk_cluster/);
      }
    }
  });
});
