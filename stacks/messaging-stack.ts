import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { Kafka } from "../modules/kafka/kafka";
import { EncryptionKey } from "../modules/kms/encryption-key";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network-stack";

/** Messaging layer: the MSK cluster under its own KMS key. */
export class MessagingStack extends EnvironmentStack {
  readonly kafka: Kafka;

  constructor(scope: Construct, env: EnvironmentConfig, network: NetworkStack) {
    super(scope, { env, layer: "messaging" });
    const name = `blueprint-${env.name}`;
    const key = new EncryptionKey(this, "MessagingKey", {
      alias: `${name}-messaging`,
      description: `MSK data of ${env.name}`,
      accountId: env.accountId,
      region: env.region,
      servicePrincipals: ["logs"],
    });
    this.kafka = new Kafka(this, "Kafka", {
      name,
      vpcId: network.network.vpc.id,
      subnetIds: network.network.privateSubnetIds,
      clientSecurityGroupIds: [network.securityGroups.services.id],
      kmsKeyArn: key.arn,
      brokerCount: env.kafka.brokerCount,
      brokerInstanceType: env.kafka.brokerInstanceType,
      storagePerBrokerGiB: env.kafka.storagePerBrokerGiB,
      logRetentionDays: env.logRetentionDays,
    });
    this.output(
      "bootstrap_brokers_sasl_iam",
      this.kafka.bootstrapBrokersSaslIam,
      "MSK bootstrap brokers for SASL/IAM clients (TLS, port 9098)",
    );
    this.output("kafka_cluster_arn", this.kafka.clusterArn, "ARN of the MSK cluster");
  }
}
