import { CATALOG, topicEntries } from "@blueprint/service-kit/catalog";
import { describe, expect, it } from "vitest";
import { onlyResource, policyStatements, synthConstruct } from "../testing/synth";
import { Kafka } from "./kafka";
import { TopicProvisioner } from "./topic-provisioner";

const stack = synthConstruct((scope) => {
  const kafka = new Kafka(scope, "Kafka", {
    name: "t",
    vpcId: "vpc-1",
    subnetIds: ["a", "b", "c"],
    clientSecurityGroupIds: ["sg-services"],
    kmsKeyArn: "arn:kms",
  });
  new TopicProvisioner(scope, "Topics", {
    name: "t-topics",
    kafka,
    vpcId: "vpc-1",
    subnetIds: ["a", "b", "c"],
    topics: topicEntries(CATALOG),
    kmsKeyArn: "arn:kms",
  });
});

describe("TopicProvisioner", () => {
  it("When applied, then it is invoked with every catalog topic, its partitions and the cluster's replication factor", () => {
    const invocation = onlyResource(stack, "aws_lambda_invocation");
    expect(JSON.parse(String(invocation.input))).toEqual({
      topics: topicEntries(CATALOG),
      replicationFactor: 3,
    });
  });

  it("When invoked, then it runs only after the cluster exists and admits it", () => {
    const invocation = onlyResource(stack, "aws_lambda_invocation");
    const clusterId = Object.keys(stack.resource.aws_msk_cluster ?? {})[0];
    expect(invocation.depends_on).toContain(`aws_msk_cluster.${clusterId}`);
    expect(
      (invocation.depends_on as string[]).some((d) => d.startsWith("aws_vpc_security_group_ingress_rule.")),
    ).toBe(true);
  });

  it("When granted, then it may create and grow topics but never delete one", () => {
    const actions = policyStatements(stack).flatMap((s) => (s.actions as string[]) ?? []);
    expect(actions).toEqual(
      expect.arrayContaining(["kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic"]),
    );
    expect(actions.filter((a) => a.startsWith("kafka-cluster:Delete"))).toEqual([]);
  });

  it("When deployed, then its log group exists first, encrypted and with retention", () => {
    const fn = onlyResource(stack, "aws_lambda_function");
    const logs = Object.entries(stack.resource.aws_cloudwatch_log_group ?? {}).find(
      ([, g]) => g.name === "/aws/lambda/t-topics",
    );
    expect(logs?.[1]).toMatchObject({ kms_key_id: "arn:kms", retention_in_days: 90 });
    expect(fn.depends_on).toContain(`aws_cloudwatch_log_group.${logs?.[0]}`);
  });
});
