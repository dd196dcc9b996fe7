import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { resourcesOf, type SynthesizedStack } from "../modules/testing/synth";
import { synthAll } from "./synth-all";

const stacks = synthAll(ENVIRONMENTS);

function stack(id: string): SynthesizedStack {
  const found = stacks.get(id);
  if (!found) throw new Error(`no ${id} stack`);
  return found;
}

/** The redrive role's statements, by sid, with the topic or group each resource ends in. */
function redriveStatements(compute: SynthesizedStack): Record<string, { actions: string[]; ends: string[] }> {
  const docs = Object.entries(compute.data.aws_iam_policy_document ?? {}).filter(([id]) =>
    id.startsWith("Role-redrive_PolicyDocument"),
  );
  expect(docs).toHaveLength(1);
  const statements = (docs[0]?.[1].statement ?? []) as Array<{
    sid: string;
    actions: string[];
    resources: string[];
  }>;
  return Object.fromEntries(
    statements.map((s) => [
      s.sid,
      { actions: s.actions, ends: s.resources.map((r) => r.split("/").pop() ?? "") },
    ]),
  );
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e.compute.kind] as const))(
  "the dead-letter redrive in %s",
  (name, kind) => {
    it("When on-call redrives dead letters, then its role reads only the dead-letter topics in their redrive groups, writes only their source topics, and reads no secret", () => {
      const statements = redriveStatements(stack(`${name}-compute`));
      expect(statements.ReadSubscribedTopics?.ends).toEqual(["order.processed.dlt", "user.created.dlt"]);
      expect(statements.JoinOwnGroups?.ends).toEqual([
        "redrive.order.processed.dlt",
        "redrive.user.created.dlt",
      ]);
      expect(statements.WriteOwnTopics?.ends).toEqual(["order.processed", "user.created"]);
      expect(JSON.stringify(statements)).not.toMatch(/secretsmanager|kms:/);
    });

    it("When on-call starts the redrive, then the role is there to use: a task role override on ECS, a service account on EKS", () => {
      const compute = stack(`${name}-compute`);
      const role = resourcesOf(compute, "aws_iam_role").find((r) => String(r.name).endsWith("-redrive"));
      const trust =
        JSON.stringify(role?.assume_role_policy ?? "") +
        JSON.stringify(compute.data.aws_iam_policy_document ?? {});
      expect(role).toBeDefined();
      expect(Object.keys(compute.output ?? {})).toContain("redrive_role_arn");
      if (kind === "eks") {
        expect(trust).toContain("system:serviceaccount:blueprint:redrive");
        const accounts = resourcesOf(stack(`${name}-workloads`), "kubernetes_service_account_v1");
        const redrive = accounts.find((a) => (a.metadata as { name?: string }).name === "redrive") as
          | { metadata: { annotations: Record<string, string> } }
          | undefined;
        expect(redrive?.metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(/redrive/);
      } else {
        expect(trust).toContain("ecs-tasks.amazonaws.com");
      }
    });
  },
);
