import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { MINIMUM_TERRAFORM_VERSION } from "./environment-stack";
import { synthAll } from "./synth-all";

const stacks = synthAll(ENVIRONMENTS);

function resources(envName: string, type: string): Array<[string, Record<string, unknown>]> {
  return [...stacks]
    .filter(([id]) => id.startsWith(`${envName}-`))
    .flatMap(([stackId, stack]) =>
      Object.entries(stack.resource[type] ?? {}).map(
        ([id, body]) => [`${stackId}/${id}`, body] as [string, Record<string, unknown>],
      ),
    );
}

const preventsDestroy = (body: Record<string, unknown>) =>
  (body.lifecycle as { prevent_destroy?: boolean } | undefined)?.prevent_destroy === true;

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("protection of %s", (name, env) => {
  it("When any plan would destroy the state bucket, its lock table or a KMS key, then Terraform refuses it", () => {
    for (const type of ["aws_kms_key", "aws_dynamodb_table"]) {
      for (const [id, body] of resources(name, type)) expect(preventsDestroy(body), id).toBe(true);
    }
    const [bucket] = resources(name, "aws_s3_bucket").filter(([id]) => id.includes("bootstrap/State_Bucket"));
    expect(bucket && preventsDestroy(bucket[1])).toBe(true);
  });

  it("When the environment is production, then the database, the brokers and the cluster refuse a destroy", () => {
    const production = env.profile === "production";
    for (const type of ["aws_db_instance", "aws_msk_cluster", "aws_eks_cluster"]) {
      for (const [id, body] of resources(name, type)) expect(preventsDestroy(body), id).toBe(production);
    }
  });

  it("When RDS exports its logs, then their groups exist beforehand with retention and encryption", () => {
    const groups = new Map(resources(name, "aws_cloudwatch_log_group").map(([, g]) => [g.name, g]));
    for (const [id, db] of resources(name, "aws_db_instance")) {
      for (const log of db.enabled_cloudwatch_logs_exports as string[]) {
        const group = groups.get(`/aws/rds/instance/${db.identifier}/${log}`);
        expect(group, `${id} ${log}`).toMatchObject({ retention_in_days: env.logRetentionDays });
        expect(group?.kms_key_id, `${id} ${log}`).toBeTruthy();
      }
    }
  });

  it("When any stack is run, then it demands the Terraform version its S3 lockfile needs", () => {
    for (const [id, stack] of stacks) {
      if (!id.startsWith(`${name}-`)) continue;
      expect((stack.terraform as { required_version?: string }).required_version, id).toBe(
        `>= ${MINIMUM_TERRAFORM_VERSION}`,
      );
    }
  });
});
