import type { Construct } from "constructs";
import type { EncryptionKey } from "../modules/kms/encryption-key";
import { BackupReplication } from "../modules/postgres/backup-replication";
import { Postgres } from "../modules/postgres/postgres";
import { ServiceSecrets } from "../modules/secrets/service-secrets";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkLayerProps } from "./network-stack";

/** Data layer: RDS PostgreSQL and the Secrets Manager entries the services read, under one KMS key. */
export class DataStack extends EnvironmentStack {
  readonly key: EncryptionKey;
  readonly postgres: Postgres;
  readonly secrets: ServiceSecrets;

  constructor(scope: Construct, props: NetworkLayerProps) {
    super(scope, { env: props.env, layer: "data" });
    const { env, network, wiring } = props;
    this.key = this.encryptionKey("DataKey", "data", `Database and secrets of ${env.name}`);
    this.postgres = new Postgres(this, "Postgres", {
      name: this.namePrefix,
      databaseName: wiring.catalog.database,
      vpcId: network.network.vpc.id,
      subnetIds: network.network.isolatedSubnetIds,
      clientSecurityGroupIds: [network.securityGroups.services.id],
      kmsKeyArn: this.key.arn,
      instanceClass: env.database.instanceClass,
      allocatedStorageGiB: env.database.allocatedStorageGiB,
      maxAllocatedStorageGiB: env.database.maxAllocatedStorageGiB,
      backupRetentionDays: env.database.backupRetentionDays,
      multiAz: env.database.multiAz,
      deletionProtection: env.database.deletionProtection,
      finalSnapshot: env.database.finalSnapshot,
      performanceInsightsRetentionDays: env.database.performanceInsightsRetentionDays,
      logKmsKeyArn: network.logKey.arn,
      logRetentionDays: env.logRetentionDays,
      preventDestroy: env.profile === "production",
    });
    if (env.disasterRecovery) {
      new BackupReplication(this, "DisasterRecovery", {
        name: this.namePrefix,
        sourceDbInstanceArn: this.postgres.instance.arn,
        accountId: env.accountId,
        sourceRegion: env.region,
        region: env.disasterRecovery.region,
        retentionDays: env.disasterRecovery.backupRetentionDays,
      });
    }
    this.secrets = new ServiceSecrets(this, "Secrets", {
      prefix: this.secretPrefix,
      kmsKeyArn: this.key.arn,
      secrets: wiring.secretSpecs(),
    });
    this.output("database_address", this.postgres.endpointAddress, "PostgreSQL host name (TLS required)");
    this.output(
      "database_master_secret_arn",
      this.postgres.masterUserSecretArn,
      "RDS-managed master credentials in Secrets Manager",
    );
  }
}
