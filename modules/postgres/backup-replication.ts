import { DbInstanceAutomatedBackupsReplication } from "@cdktf/provider-aws/lib/db-instance-automated-backups-replication";
import { Construct } from "constructs";
import { EncryptionKey } from "../kms/encryption-key";

export interface BackupReplicationProps {
  /** Name prefix, e.g. `blueprint-prod`; names the key alias in the second region. */
  readonly name: string;
  /** ARN of the RDS instance whose automated backups are copied. */
  readonly sourceDbInstanceArn: string;
  readonly accountId: string;
  /** Region the source instance is in. */
  readonly sourceRegion: string;
  /** The second region, which the copies live in. */
  readonly region: string;
  /** Days of backups and transaction logs kept there, 1 to 35. */
  readonly retentionDays: number;
}

/**
 * Cross-region disaster recovery of a PostgreSQL instance: RDS copies its snapshots and
 * transaction logs to a second region as they are written (every few minutes), so the database can
 * be restored there to a point minutes before a regional loss, encrypted with a key of that region.
 */
export class BackupReplication extends Construct {
  readonly replication: DbInstanceAutomatedBackupsReplication;
  readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: BackupReplicationProps) {
    super(scope, id);
    if (props.region === props.sourceRegion) {
      throw new Error(
        `BackupReplication ${props.name}: region must differ from the source region ${props.sourceRegion}, got "${props.region}"`,
      );
    }
    if (!(Number.isInteger(props.retentionDays) && props.retentionDays >= 1 && props.retentionDays <= 35)) {
      throw new Error(
        `BackupReplication ${props.name}: retentionDays must be 1 to 35, got ${props.retentionDays}`,
      );
    }
    this.key = new EncryptionKey(this, "Key", {
      alias: `${props.name}-dr-backups`,
      description: `Replicated database backups of ${props.name}`,
      accountId: props.accountId,
      region: props.region,
      placeInRegion: true,
    });
    this.replication = new DbInstanceAutomatedBackupsReplication(this, "Replication", {
      region: props.region,
      sourceDbInstanceArn: props.sourceDbInstanceArn,
      kmsKeyId: this.key.arn,
      retentionPeriod: props.retentionDays,
    });
  }
}
