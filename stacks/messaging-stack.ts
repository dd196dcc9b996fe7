import { type Catalog, topicEntries } from "@blueprint/service-kit/catalog";
import type { Construct } from "constructs";
import { Kafka } from "../modules/kafka/kafka";
import { TopicProvisioner } from "../modules/kafka/topic-provisioner";
import { EnvironmentStack, type LayerStackProps } from "./environment-stack";
import type { NetworkStack } from "./network-stack";

export interface MessagingStackProps extends LayerStackProps {
  readonly network: NetworkStack;
  /** The topics to create, with their partitions: the same catalog the local stack provisions from. */
  readonly catalog: Catalog;
}

/** Messaging layer: the MSK cluster under its own KMS key, and the catalog's topics on it. */
export class MessagingStack extends EnvironmentStack {
  readonly kafka: Kafka;
  readonly topics: TopicProvisioner;

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
      preventDestroy: env.profile === "production",
    });
    this.topics = new TopicProvisioner(this, "Topics", {
      name: `${this.namePrefix}-topics`,
      kafka: this.kafka,
      vpcId: network.network.vpc.id,
      subnetIds: network.network.privateSubnetIds,
      topics: topicEntries(props.catalog),
      kmsKeyArn: key.arn,
      logRetentionDays: env.logRetentionDays,
    });
    this.output(
      "topics_provisioned",
      this.topics.invocation.result,
      "Topics the provisioner created, grew or left unchanged on its last run",
    );
    this.output(
      "bootstrap_brokers_sasl_iam",
      this.kafka.bootstrapBrokersSaslIam,
      "MSK bootstrap brokers for SASL/IAM clients (TLS, port 9098)",
    );
    this.output("kafka_cluster_arn", this.kafka.clusterArn, "ARN of the MSK cluster");
  }
}
