import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaInvocation } from "@cdktf/provider-aws/lib/lambda-invocation";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { topicProvisionerBundle } from "../../tools/topics/src/bundle";
import type { TopicSpec } from "../../tools/topics/src/provision";
import { policyDocument } from "../iam/policy-document";
import { type Kafka, MSK_IAM_PORT } from "./kafka";

export interface TopicProvisionerProps {
  /** Name of the function and its role, e.g. `blueprint-prod-topics`. */
  readonly name: string;
  readonly kafka: Kafka;
  readonly vpcId: string;
  /** Private subnets the function runs in, next to the brokers. */
  readonly subnetIds: readonly string[];
  /** The topics to hold, from the catalog (`topicEntries`). */
  readonly topics: readonly TopicSpec[];
  /** KMS key for the function's log group. */
  readonly kmsKeyArn: string;
  /** @default 90 */
  readonly logRetentionDays?: number;
}

/**
 * Creates the catalog's topics on MSK, where auto-creation is off: a Lambda function in the VPC that
 * authenticates with its role (SASL/IAM), invoked by Terraform once the cluster exists and again
 * whenever the topic list or the code changes. It creates missing topics and adds partitions, and
 * may never delete a topic (its role has no `DeleteTopic`).
 */
export class TopicProvisioner extends Construct {
  readonly function: LambdaFunction;
  readonly invocation: LambdaInvocation;

  constructor(scope: Construct, id: string, props: TopicProvisionerProps) {
    super(scope, id);
    if (props.topics.length === 0)
      throw new Error(`TopicProvisioner ${props.name}: topics must not be empty`);
    const { kafka } = props;
    const role = new IamRole(this, "Role", {
      name: props.name,
      assumeRolePolicy: policyDocument(this, "Trust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
        },
      ]).json,
    });
    const logs = new CloudwatchLogGroup(this, "Logs", {
      name: `/aws/lambda/${props.name}`,
      retentionInDays: props.logRetentionDays ?? 90,
      kmsKeyId: props.kmsKeyArn,
    });
    const vpcAccess = new IamRolePolicyAttachment(this, "VpcAccess", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    });
    const policy = new IamRolePolicy(this, "Policy", {
      role: role.name,
      name: "provision-topics",
      policy: policyDocument(this, "PolicyDocument", [
        {
          sid: "WriteOwnLogs",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${logs.arn}:*`],
        },
        {
          sid: "ConnectToCluster",
          effect: "Allow",
          actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
          resources: [kafka.clusterArn],
        },
        {
          sid: "CreateCatalogTopics",
          effect: "Allow",
          actions: ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic"],
          resources: props.topics.map((t) => kafka.topicArn(t.name)),
        },
      ]).json,
    });
    const securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: `${props.name}-provisioner`,
      description: "Topic provisioner: to the MSK IAM listener only",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-provisioner` },
    });
    new VpcSecurityGroupEgressRule(this, "ToBrokers", {
      securityGroupId: securityGroup.id,
      description: "Kafka SASL/IAM over TLS to the brokers",
      ipProtocol: "tcp",
      fromPort: MSK_IAM_PORT,
      toPort: MSK_IAM_PORT,
      referencedSecurityGroupId: kafka.securityGroup.id,
    });
    const ingress = new VpcSecurityGroupIngressRule(this, "FromProvisioner", {
      securityGroupId: kafka.securityGroup.id,
      description: "Kafka SASL/IAM over TLS from the topic provisioner",
      ipProtocol: "tcp",
      fromPort: MSK_IAM_PORT,
      toPort: MSK_IAM_PORT,
      referencedSecurityGroupId: securityGroup.id,
    });
    const code = new TerraformAsset(this, "Code", {
      path: topicProvisionerBundle(),
      type: AssetType.FILE,
    });
    this.function = new LambdaFunction(this, "Function", {
      functionName: props.name,
      description: "Creates the catalog's Kafka topics (never deletes)",
      role: role.arn,
      runtime: "nodejs20.x",
      architectures: ["arm64"],
      handler: "index.handler",
      filename: code.path,
      sourceCodeHash: code.assetHash,
      timeout: 300,
      memorySize: 256,
      environment: { variables: { KAFKA_BROKERS: kafka.bootstrapBrokersSaslIam } },
      vpcConfig: { subnetIds: [...props.subnetIds], securityGroupIds: [securityGroup.id] },
      loggingConfig: { logFormat: "Text", logGroup: logs.name },
      // Lambda creates its ENIs with the role at create time; the log group must exist before the
      // first run, or Lambda creates one without retention or encryption.
      dependsOn: [vpcAccess, policy, logs],
    });
    this.invocation = new LambdaInvocation(this, "Invocation", {
      functionName: this.function.functionName,
      input: JSON.stringify({ topics: props.topics, replicationFactor: kafka.replicationFactor }),
      triggers: { code: code.assetHash },
      // The brokers must accept the function's connections before it runs.
      dependsOn: [ingress, kafka.cluster],
    });
  }
}
