import { Kafka, logLevel } from "kafkajs";
import { connectionSettings } from "../../../services/service-kit/src/messaging";
import { type ProvisionReport, provisionTopics, type TopicSpec } from "./provision";

/** What the Terraform invocation sends: the catalog's topics and the cluster's replication factor. */
export interface ProvisionEvent {
  readonly topics: readonly TopicSpec[];
  readonly replicationFactor: number;
}

/**
 * Lambda entry point, run inside the VPC by `aws_lambda_invocation` during the messaging apply:
 * connects to MSK with the function role's IAM identity (SASL/OAUTHBEARER over TLS) and provisions
 * the topics. Brokers and region come from the function's environment.
 */
export async function handler(event: ProvisionEvent): Promise<ProvisionReport> {
  const brokers = (process.env.KAFKA_BROKERS ?? "").split(",").filter((b) => b !== "");
  const region = process.env.AWS_REGION;
  if (brokers.length === 0 || !region) {
    throw new Error(
      `KAFKA_BROKERS and AWS_REGION must be set, got KAFKA_BROKERS="${process.env.KAFKA_BROKERS ?? ""}" AWS_REGION="${region ?? ""}"`,
    );
  }
  const kafka = new Kafka({
    clientId: "topic-provisioner",
    brokers,
    logLevel: logLevel.WARN,
    ...connectionSettings({ kind: "aws-msk-iam", region }),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const report = await provisionTopics(admin, event.topics, event.replicationFactor);
    console.log(JSON.stringify(report));
    return report;
  } finally {
    await admin.disconnect();
  }
}
