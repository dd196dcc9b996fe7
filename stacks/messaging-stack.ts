import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { Kafka } from "../modules/kafka/kafka";
import { EncryptionKey } from "../modules/kms/encryption-key";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network-stack";

export interface MessagingStackProps {
  readonly env: EnvironmentConfig;
  readonly network: NetworkStack;
}

/** Messaging layer: the MSK cluster under its own KMS key. */
export class MessagingStack extends EnvironmentStack {
  readonly kafka: Kafka;

  constructor(scope: Construct, props: MessagingStackProps) {
    super(scope, { env: props.env, layer: "messaging" });
    const { env, network } = props;
    const name = this.namePrefix;
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
