import { describe, expect, it } from "vitest";
import { onlyResource, synthesizer } from "../testing/synth";
import { Postgres, type PostgresProps } from "./postgres";

const minimal: PostgresProps = {
  name: "t",
  databaseName: "blueprint",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  clientSecurityGroupIds: ["sg-services"],
  kmsKeyArn: "arn:kms",
  logKmsKeyArn: "arn:kms:logs",
};
const build = synthesizer(Postgres, "Postgres", minimal);

describe("Postgres", () => {
  it("When built with minimal props, then the defaults are the safe ones: multi-AZ, protected, 7-day backups, final snapshot", () => {
    expect(onlyResource(build(), "aws_db_instance")).toMatchObject({
      engine: "postgres",
      engine_version: "16",
      instance_class: "db.t4g.medium",
      allocated_storage: 20,
      max_allocated_storage: 40,
      multi_az: true,
      deletion_protection: true,
      backup_retention_period: 7,
      skip_final_snapshot: false,
      final_snapshot_identifier: "t-postgres-final",
      storage_encrypted: true,
      kms_key_id: "arn:kms",
      manage_master_user_password: true,
      master_user_secret_kms_key_id: "arn:kms",
      iam_database_authentication_enabled: true,
      performance_insights_enabled: true,
      performance_insights_retention_period: 7,
      publicly_accessible: false,
      monitoring_interval: 60,
    });
  });

  it("When the profile waives the guards, then the instance follows the props", () => {
    expect(
      onlyResource(
        build({ multiAz: false, deletionProtection: false, finalSnapshot: false }),
        "aws_db_instance",
      ),
    ).toMatchObject({
      multi_az: false,
      deletion_protection: false,
      skip_final_snapshot: true,
    });
  });

  it("When built, then TLS is forced and only the client security groups reach 5432", () => {
    const stack = build();
    expect(onlyResource(stack, "aws_db_parameter_group").parameter).toEqual(
      expect.arrayContaining([
        { name: "rds.force_ssl", value: "1" },
        { name: "ssl_min_protocol_version", value: "TLSv1.2" },
      ]),
    );
    expect(onlyResource(stack, "aws_vpc_security_group_ingress_rule")).toMatchObject({
      from_port: 5432,
      to_port: 5432,
      referenced_security_group_id: "sg-services",
    });
  });

  it.each([
    [
      { backupRetentionDays: 0 },
      "Postgres t: backupRetentionDays must be 1 to 35 (0 disables backups), got 0",
    ],
    [
      { allocatedStorageGiB: 100, maxAllocatedStorageGiB: 50 },
      "Postgres t: maxAllocatedStorageGiB (50) must be at least allocatedStorageGiB (100)",
    ],
    [
      { performanceInsightsRetentionDays: 30 },
      "Postgres t: performanceInsightsRetentionDays must be 7, a multiple of 31 up to 713, or 731, got 30",
    ],
    [{ engineVersion: "15" }, 'Postgres t: engineVersion must be PostgreSQL 16 ("16" or "16.x"), got "15"'],
    [{ subnetIds: ["subnet-a"] }, "Postgres t: subnetIds must span at least 2 AZs, got 1"],
    [
      { clientSecurityGroupIds: [] },
      "Postgres t: clientSecurityGroupIds must name at least one security group",
    ],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
