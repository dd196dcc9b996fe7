import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { policyDocument } from "../iam/policy-document";

const PI_RETENTION = new Set([7, 731, ...Array.from({ length: 23 }, (_, i) => (i + 1) * 31)]);

export interface PostgresProps {
  /** Instance identifier and name prefix, e.g. `blueprint-prod`. */
  readonly name: string;
  readonly vpcId: string;
  /** Isolated subnets (no internet route) in at least two AZs. */
  readonly subnetIds: readonly string[];
  /** Security groups allowed to connect on 5432; nothing else can. */
  readonly clientSecurityGroupIds: readonly string[];
  /** KMS key for storage, Performance Insights and the managed master password secret. */
  readonly kmsKeyArn: string;
  /** @default "db.t4g.medium" */
  readonly instanceClass?: string;
  /** @default 20 */
  readonly allocatedStorageGiB?: number;
  /** Storage autoscaling ceiling. @default 2 x allocatedStorageGiB */
  readonly maxAllocatedStorageGiB?: number;
  /** Automated backups and point-in-time recovery window, 1 to 35. @default 7 */
  readonly backupRetentionDays?: number;
  /** Synchronous standby in a second AZ. @default true */
  readonly multiAz?: boolean;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** Snapshot taken when the instance is destroyed. @default true */
  readonly finalSnapshot?: boolean;
  /** 7, a multiple of 31 up to 713, or 731. @default 7 */
  readonly performanceInsightsRetentionDays?: number;
  /** Major version; minor versions are upgraded in the maintenance window. @default "16" */
  readonly engineVersion?: string;
  /** Name of the database the instance creates, shared by the services (one schema and role each). */
  readonly databaseName: string;
  /** KMS key of the exported log groups. */
  readonly logKmsKeyArn: string;
  /** Retention of the exported log groups. @default 90 */
  readonly logRetentionDays?: number;
  /** Terraform refuses any plan that destroys the instance (`lifecycle.prevent_destroy`). @default true */
  readonly preventDestroy?: boolean;
}

/** Logs the instance exports to CloudWatch; RDS would create their groups without retention or a key. */
export const POSTGRES_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/**
 * RDS PostgreSQL in isolated subnets: TLS forced by the parameter group, storage and Performance
 * Insights encrypted with KMS, the master password generated and kept in Secrets Manager by RDS,
 * IAM database authentication, backups with point-in-time recovery, enhanced monitoring and log
 * exports; multi-AZ, deletion protection and the final snapshot follow the props.
 */
export class Postgres extends Construct {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;
  /** Secrets Manager ARN of the RDS-managed master credentials. */
  readonly masterUserSecretArn: string;
  readonly endpointAddress: string;
  readonly port = 5432;

  constructor(scope: Construct, id: string, props: PostgresProps) {
    super(scope, id);
    const instanceClass = props.instanceClass ?? "db.t4g.medium";
    const allocatedStorageGiB = props.allocatedStorageGiB ?? 20;
    const maxAllocatedStorageGiB = props.maxAllocatedStorageGiB ?? allocatedStorageGiB * 2;
    const backupRetentionDays = props.backupRetentionDays ?? 7;
    const multiAz = props.multiAz ?? true;
    const deletionProtection = props.deletionProtection ?? true;
    const finalSnapshot = props.finalSnapshot ?? true;
    const piRetention = props.performanceInsightsRetentionDays ?? 7;
    const engineVersion = props.engineVersion ?? "16";
    const databaseName = props.databaseName;

    const fail = (message: string) => {
      throw new Error(`Postgres ${props.name}: ${message}`);
    };
    if (backupRetentionDays < 1 || backupRetentionDays > 35) {
      fail(`backupRetentionDays must be 1 to 35 (0 disables backups), got ${backupRetentionDays}`);
    }
    if (maxAllocatedStorageGiB < allocatedStorageGiB) {
      fail(
        `maxAllocatedStorageGiB (${maxAllocatedStorageGiB}) must be at least allocatedStorageGiB (${allocatedStorageGiB})`,
      );
    }
    if (!PI_RETENTION.has(piRetention)) {
      fail(
        `performanceInsightsRetentionDays must be 7, a multiple of 31 up to 713, or 731, got ${piRetention}`,
      );
    }
    if (!engineVersion.startsWith("16"))
      fail(`engineVersion must be PostgreSQL 16 ("16" or "16.x"), got "${engineVersion}"`);
    if (props.subnetIds.length < 2) fail(`subnetIds must span at least 2 AZs, got ${props.subnetIds.length}`);
    if (props.clientSecurityGroupIds.length === 0)
      fail("clientSecurityGroupIds must name at least one security group");

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: `${props.name}-postgres`,
      description: "PostgreSQL: 5432 from the services only",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-postgres` },
    });
    props.clientSecurityGroupIds.forEach((groupId, i) => {
      new VpcSecurityGroupIngressRule(this, `FromClients${i}`, {
        securityGroupId: this.securityGroup.id,
        description: "PostgreSQL from the services",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: groupId,
      });
    });

    const subnetGroup = new DbSubnetGroup(this, "SubnetGroup", {
      name: `${props.name}-postgres`,
      description: "Isolated subnets, no internet route",
      subnetIds: [...props.subnetIds],
    });
    const parameters = new DbParameterGroup(this, "Parameters", {
      name: `${props.name}-postgres16`,
      family: "postgres16",
      description: "TLS only, connection and slow statement logging",
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "ssl_min_protocol_version", value: "TLSv1.2" },
        { name: "log_connections", value: "1" },
        { name: "log_disconnections", value: "1" },
        { name: "log_min_duration_statement", value: "500" },
      ],
    });
    const monitoringRole = new IamRole(this, "MonitoringRole", {
      name: `${props.name}-rds-monitoring`,
      assumeRolePolicy: policyDocument(this, "MonitoringTrust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["monitoring.rds.amazonaws.com"] }],
        },
      ]).json,
    });
    new IamRolePolicyAttachment(this, "MonitoringPolicy", {
      role: monitoringRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    });

    const identifier = `${props.name}-postgres`;
    const logGroups = POSTGRES_LOG_EXPORTS.map(
      (log) =>
        new CloudwatchLogGroup(this, `Logs-${log}`, {
          name: `/aws/rds/instance/${identifier}/${log}`,
          retentionInDays: props.logRetentionDays ?? 90,
          kmsKeyId: props.logKmsKeyArn,
        }),
    );
    this.instance = new DbInstance(this, "Instance", {
      identifier,
      engine: "postgres",
      engineVersion,
      autoMinorVersionUpgrade: true,
      instanceClass,
      dbName: databaseName,
      username: "postgres_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.kmsKeyArn,
      iamDatabaseAuthenticationEnabled: true,
      allocatedStorage: allocatedStorageGiB,
      maxAllocatedStorage: maxAllocatedStorageGiB,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      publiclyAccessible: false,
      parameterGroupName: parameters.name,
      multiAz,
      backupRetentionPeriod: backupRetentionDays,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:03:30-sun:04:30",
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      deletionProtection,
      skipFinalSnapshot: !finalSnapshot,
      finalSnapshotIdentifier: finalSnapshot ? `${props.name}-postgres-final` : undefined,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: props.kmsKeyArn,
      performanceInsightsRetentionPeriod: piRetention,
      monitoringInterval: 60,
      monitoringRoleArn: monitoringRole.arn,
      enabledCloudwatchLogsExports: [...POSTGRES_LOG_EXPORTS],
      dependsOn: logGroups,
      lifecycle: { preventDestroy: props.preventDestroy ?? true },
    });
    this.masterUserSecretArn = this.instance.masterUserSecret.get(0).secretArn;
    this.endpointAddress = this.instance.address;
  }
}
