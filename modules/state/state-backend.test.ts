import { describe, expect, it } from "vitest";
import { onlyResource, synthesizer } from "../testing/synth";
import { StateBackend, type StateBackendProps } from "./state-backend";

const minimal: StateBackendProps = {
  bucketName: "state-bucket",
  lockTableName: "locks",
  kmsKeyArn: "arn:kms",
};
const build = synthesizer(StateBackend, "State", minimal);

describe("StateBackend", () => {
  it("When built, then the bucket is versioned, SSE-KMS encrypted, private and TLS-only", () => {
    const stack = build();
    expect(onlyResource(stack, "aws_s3_bucket_versioning")).toMatchObject({
      versioning_configuration: { status: "Enabled" },
    });
    expect(onlyResource(stack, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: "arn:kms" },
        bucket_key_enabled: true,
      },
    ]);
    expect(onlyResource(stack, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    const [deny] = Object.values(stack.data.aws_iam_policy_document ?? {}).flatMap(
      (d) => d.statement as unknown[],
    );
    expect(deny).toMatchObject({
      effect: "Deny",
      condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
    });
  });

  it("When built, then the lock table has point-in-time recovery, KMS encryption and deletion protection", () => {
    expect(onlyResource(build(), "aws_dynamodb_table")).toMatchObject({
      hash_key: "LockID",
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: "arn:kms" },
      deletion_protection_enabled: true,
    });
  });

  it("When old state versions would be kept under 30 days, then it fails", () => {
    expect(() => build({ noncurrentVersionDays: 7 })).toThrow(
      "StateBackend: noncurrentVersionDays must be at least 30 to allow recovery, got 7",
    );
  });
});
