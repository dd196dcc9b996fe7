import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { MskCluster } from "@cdktf/provider-aws/lib/msk-cluster";
import { MskConfiguration } from "@cdktf/provider-aws/lib/msk-configuration";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn } from "cdktf";
import { Construct } from "constructs";

/** Port of the SASL/IAM listener inside the VPC. */
export const MSK_IAM_PORT = 9098;

export interface KafkaProps {
  /** Cluster name and name prefix, e.g. `blueprint-prod`. */
  readonly name: string;
  readonly vpcId: string;
  /** Private subnets, one per AZ; brokers are spread evenly across them. */
  readonly subnetIds: readonly string[];
  /** Security groups allowed to connect on the IAM listener; nothing else can. */
  readonly clientSecurityGroupIds: readonly string[];
  /** KMS key for data at rest and the broker log group. */
  readonly kmsKeyArn: string;
  /** @default 3 */
  readonly brokerCount?: number;
  /** @default "kafka.m7g.large" */
  readonly brokerInstanceType?: string;
  /** @default 100 */
  readonly storagePerBrokerGiB?: number;
  /** @default "3.9.x" */
  readonly kafkaVersion?: string;
  /** Retention of the broker log group. @default 90 */
  readonly logRetentionDays?: number;
  /** Terraform refuses any plan that destroys the cluster (`lifecycle.prevent_destroy`). @default true */
  readonly preventDestroy?: boolean;
}

/**
 * Amazon MSK with TLS-only client traffic and encryption between brokers, IAM client authentication
 * (no unauthenticated or plaintext access), KMS at rest, broker logs to CloudWatch, Prometheus
 * exporters for scraping, and a configuration that never creates topics implicitly and keeps
 * replication and `min.insync.replicas` safe for the broker count.
 */
export class Kafka extends Construct {
  readonly cluster: MskCluster;
  /**
   * Name of the MSK cluster (the `Cluster Name` dimension of its metrics), as given: a plain value, so a stack that reads it from another layer needs
   * no new remote state output (one the layer's current state lacks fails that stack's plan).
   */
  readonly clusterName: string;
  readonly securityGroup: SecurityGroup;
  readonly configuration: MskConfiguration;
  /** `host:9098,...` for SASL/IAM clients. */
  readonly bootstrapBrokersSaslIam: string;
  readonly clusterArn: string;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;

  constructor(scope: Construct, id: string, props: KafkaProps) {
    super(scope, id);
    this.clusterName = props.name;
    const brokerCount = props.brokerCount ?? 3;
    const brokerInstanceType = props.brokerInstanceType ?? "kafka.m7g.large";
    const storagePerBrokerGiB = props.storagePerBrokerGiB ?? 100;
    const kafkaVersion = props.kafkaVersion ?? "3.9.x";
    const logRetentionDays = props.logRetentionDays ?? 90;
    if (props.subnetIds.length < 2) {
      throw new Error(
        `Kafka ${props.name}: subnetIds must span at least 2 AZs, got ${props.subnetIds.length}`,
      );
    }
    if (brokerCount % props.subnetIds.length !== 0) {
      throw new Error(
        `Kafka ${props.name}: brokerCount must be a multiple of the ${props.subnetIds.length} subnets (MSK spreads brokers evenly), got ${brokerCount}`,
      );
    }
    if (props.clientSecurityGroupIds.length === 0) {
      throw new Error(`Kafka ${props.name}: clientSecurityGroupIds must name at least one security group`);
    }
    // Three copies where there are three brokers; with two, one may be down for patching and
    // producers with acks=all keep writing (min ISR 1), which dev accepts and prod's guard forbids.
    this.replicationFactor = Math.min(3, brokerCount);
    this.minInsyncReplicas = this.replicationFactor >= 3 ? 2 : 1;

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: `${props.name}-msk`,
      description: "MSK brokers: IAM/TLS listener from the services only",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-msk` },
    });
    props.clientSecurityGroupIds.forEach((groupId, i) => {
      new VpcSecurityGroupIngressRule(this, `FromClients${i}`, {
        securityGroupId: this.securityGroup.id,
        description: "Kafka SASL/IAM over TLS from the services",
        ipProtocol: "tcp",
        fromPort: MSK_IAM_PORT,
        toPort: MSK_IAM_PORT,
        referencedSecurityGroupId: groupId,
      });
    });

    this.configuration = new MskConfiguration(this, "Configuration", {
      name: `${props.name}-kafka`,
      kafkaVersions: [kafkaVersion],
      serverProperties: [
        "auto.create.topics.enable=false",
        `default.replication.factor=${this.replicationFactor}`,
        `min.insync.replicas=${this.minInsyncReplicas}`,
        "unclean.leader.election.enable=false",
        "num.partitions=6",
        "log.retention.hours=168",
      ].join("\n"),
    });

    const logGroup = new CloudwatchLogGroup(this, "BrokerLogs", {
      name: `/msk/${props.name}/brokers`,
      retentionInDays: logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    this.cluster = new MskCluster(this, "Cluster", {
      clusterName: props.name,
      kafkaVersion,
      numberOfBrokerNodes: brokerCount,
      brokerNodeGroupInfo: {
        instanceType: brokerInstanceType,
        clientSubnets: [...props.subnetIds],
        securityGroups: [this.securityGroup.id],
        storageInfo: { ebsStorageInfo: { volumeSize: storagePerBrokerGiB } },
        connectivityInfo: { publicAccess: { type: "DISABLED" } },
      },
      clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
      encryptionInfo: {
        encryptionAtRestKmsKeyArn: props.kmsKeyArn,
        encryptionInTransit: { clientBroker: "TLS", inCluster: true },
      },
      configurationInfo: { arn: this.configuration.arn, revision: this.configuration.latestRevision },
      enhancedMonitoring: "PER_TOPIC_PER_BROKER",
      openMonitoring: {
        prometheus: { jmxExporter: { enabledInBroker: true }, nodeExporter: { enabledInBroker: true } },
      },
      loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: logGroup.name } } },
      lifecycle: { preventDestroy: props.preventDestroy ?? true },
    });
    this.clusterArn = this.cluster.arn;
    this.bootstrapBrokersSaslIam = this.cluster.bootstrapBrokersSaslIam;
  }

  /** ARN of a topic of this cluster, for IAM policies (`arn:...:topic/<cluster>/<uuid>/<topic>`). */
  topicArn(topic: string): string {
    return `${Fn.replace(this.clusterArn, ":cluster/", ":topic/")}/${topic}`;
  }

  /** ARN of a consumer group of this cluster, for IAM policies. */
  groupArn(group: string): string {
    return `${Fn.replace(this.clusterArn, ":cluster/", ":group/")}/${group}`;
  }
}
