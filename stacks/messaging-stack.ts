import type { Construct } from "constructs";
import { Kafka } from "../modules/kafka/kafka";
import { EnvironmentStack, type LayerStackProps } from "./environment-stack";
import type { NetworkStack } from "./network-stack";

export interface MessagingStackProps extends LayerStackProps {
  readonly network: NetworkStack;
}

/** Messaging layer: the MSK cluster under its own KMS key. */
export class MessagingStack extends EnvironmentStack {
  readonly kafka: Kafka;

  constructor(scope: Construct, props: MessagingStackProps) {
    super(scope, { env: props.env, layer: "messaging" });
    const { env, network } = props;
    const key = this.encryptionKey("MessagingKey", "messaging", `MSK data of ${env.name}`, ["logs"]);
    this.kafka = new Kafka(this, "Kafka", {
      name: this.namePrefix,
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
