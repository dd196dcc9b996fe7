import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { type PolicyStatement, policyDocument } from "./policy-document";
import { ecsTasksTrust, type ServiceAccountIdentity, serviceAccountTrust } from "./trust";

/** Who may assume the role: ECS tasks, or one Kubernetes service account through IRSA. */
export type ServiceRoleTrust =
  | { readonly kind: "ecs"; readonly accountId: string; readonly region: string }
  | ({ readonly kind: "irsa" } & ServiceAccountIdentity);

export interface ServiceRoleProps {
  /** Role name, e.g. `blueprint-prod-user-service`. */
  readonly roleName: string;
  readonly trust: ServiceRoleTrust;
  /** MSK cluster ARN the service connects to. */
  readonly kafkaClusterArn: string;
  /** Topics the service writes. @default none */
  readonly produces?: readonly string[];
  /** Topics the service reads. @default none */
  readonly consumes?: readonly string[];
  /** Consumer group ids the service joins; required when it consumes. @default none */
  readonly consumerGroups?: readonly string[];
  /** Secrets Manager ARNs the service reads: its own, nothing else. @default none */
  readonly secretArns?: readonly string[];
  /** KMS keys that encrypt those secrets. @default none */
  readonly kmsKeyArns?: readonly string[];
}

/**
 * The runtime role of one service, least privilege: connect to the MSK cluster, write and read
 * exactly the topics it uses, join exactly its consumer groups, read its own secrets.
 */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    const produces = props.produces ?? [];
    const consumes = props.consumes ?? [];
    const consumerGroups = props.consumerGroups ?? [];
    if (consumes.length > 0 && consumerGroups.length === 0) {
      throw new Error(
        `ServiceRole ${props.roleName}: consumerGroups must be set when the service consumes ${consumes.join(", ")}`,
      );
    }
    const secretArns = props.secretArns ?? [];
    if (secretArns.length > 0 && (props.kmsKeyArns ?? []).length === 0)
      throw new Error(`ServiceRole ${props.roleName}: kmsKeyArns must name the keys of its secrets`);

    const trust =
      props.trust.kind === "ecs"
        ? ecsTasksTrust(props.trust.accountId, props.trust.region)
        : serviceAccountTrust(props.trust);
    this.role = new IamRole(this, "Role", {
      name: props.roleName,
      assumeRolePolicy: policyDocument(this, "Trust", [trust]).json,
      maxSessionDuration: 3600,
    });
    this.roleArn = this.role.arn;

    const topicArn = (topic: string) =>
      `${Fn.replace(props.kafkaClusterArn, ":cluster/", ":topic/")}/${topic}`;
    const groupArn = (group: string) =>
      `${Fn.replace(props.kafkaClusterArn, ":cluster/", ":group/")}/${group}`;
    const statements: PolicyStatement[] = [
      {
        sid: "ConnectToCluster",
        effect: "Allow",
        actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
        resources: [props.kafkaClusterArn],
      },
    ];
    if (produces.length > 0) {
      statements.push(
        {
          sid: "WriteOwnTopics",
          effect: "Allow",
          actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
          resources: produces.map(topicArn),
        },
        {
          // MSK authorizes the idempotent producer's InitProducerId on the cluster, not on a topic.
          sid: "ProduceIdempotently",
          effect: "Allow",
          actions: ["kafka-cluster:WriteDataIdempotently"],
          resources: [props.kafkaClusterArn],
        },
      );
    }
    if (consumes.length > 0) {
      statements.push(
        {
          sid: "ReadSubscribedTopics",
          effect: "Allow",
          actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
          resources: consumes.map(topicArn),
        },
        {
          sid: "JoinOwnGroups",
          effect: "Allow",
          actions: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
          resources: consumerGroups.map(groupArn),
        },
      );
    }
    if (secretArns.length > 0)
      statements.push(
        {
          sid: "ReadOwnSecrets",
          effect: "Allow",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [...secretArns],
        },
        {
          sid: "DecryptOwnSecrets",
          effect: "Allow",
          actions: ["kms:Decrypt"],
          resources: [...(props.kmsKeyArns ?? [])],
          condition: [
            { test: "StringLike", variable: "kms:ViaService", values: ["secretsmanager.*.amazonaws.com"] },
          ],
        },
      );
    new IamRolePolicy(this, "Policy", {
      role: this.role.name,
      name: "least-privilege",
      policy: policyDocument(this, "PolicyDocument", statements).json,
    });
  }
}
