import { describe, expect, it } from "vitest";
import { onlyResource, synthesizer } from "../testing/synth";
import { Kafka, type KafkaProps } from "./kafka";

const minimal: KafkaProps = {
  name: "t",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  clientSecurityGroupIds: ["sg-services"],
  kmsKeyArn: "arn:kms",
};
const build = synthesizer(Kafka, "Kafka", minimal);

describe("Kafka", () => {
  it("When built with minimal props, then three brokers serve TLS with IAM only, encrypted with the key", () => {
    expect(onlyResource(build(), "aws_msk_cluster")).toMatchObject({
      kafka_version: "3.9.x",
      number_of_broker_nodes: 3,
      client_authentication: { sasl: { iam: true }, unauthenticated: false },
      encryption_info: {
        encryption_at_rest_kms_key_arn: "arn:kms",
        encryption_in_transit: { client_broker: "TLS", in_cluster: true },
      },
      broker_node_group_info: {
        instance_type: "kafka.m7g.large",
        storage_info: { ebs_storage_info: { volume_size: 100 } },
      },
      logging_info: { broker_logs: { cloudwatch_logs: { enabled: true } } },
    });
  });

  it("When there are three or more brokers, then topics get three replicas and min ISR 2; with two, 2 and 1", () => {
    expect(onlyResource(build(), "aws_msk_configuration").server_properties).toContain(
      "auto.create.topics.enable=false\ndefault.replication.factor=3\nmin.insync.replicas=2",
    );
    const two = build({ subnetIds: ["a", "b"], brokerCount: 2 });
    expect(onlyResource(two, "aws_msk_configuration").server_properties).toContain(
      "default.replication.factor=2\nmin.insync.replicas=1",
    );
  });

  it("When built, then only the client security groups reach the IAM listener", () => {
    expect(onlyResource(build(), "aws_vpc_security_group_ingress_rule")).toMatchObject({
      from_port: 9098,
      to_port: 9098,
      referenced_security_group_id: "sg-services",
    });
  });

  it.each([
    [
      { brokerCount: 4 },
      "Kafka t: brokerCount must be a multiple of the 3 subnets (MSK spreads brokers evenly), got 4",
    ],
    [{ subnetIds: ["a"] }, "Kafka t: subnetIds must span at least 2 AZs, got 1"],
    [{ clientSecurityGroupIds: [] }, "Kafka t: clientSecurityGroupIds must name at least one security group"],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
