import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { ECS_TARGETS_DIR, ecsCollectorConfig } from "../../dashboards/src/cloud-scrape";
import { policyDocument } from "../iam/policy-document";
import { ecsTasksTrust } from "../iam/trust";
import { assertLogRetention, assertPort } from "../workload/limits";
import { pascalCase } from "../workload/workload";

/** AWS Distro for OpenTelemetry collector image, pinned. */
export const ADOT_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.47.0";

export interface EcsMetricsCollectorProps {
  /** Environment name: the `env` label of every scraped series. */
  readonly environment: string;
  readonly accountId: string;
  readonly region: string;
  /** The services' ECS cluster; the collector runs in it and discovers its tasks. */
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly vpcId: string;
  /** Private subnets of the collector task (NAT or VPC endpoints reach AMP and the ECS API). */
  readonly privateSubnetIds: readonly string[];
  /** Security group of the service tasks; the collector is let in on each service port. */
  readonly servicesSecurityGroupId: string;
  /** Container port per ECS service name, e.g. `{ "user-service": 8081 }`. */
  readonly servicePorts: Readonly<Record<string, number>>;
  /** AMP workspace ARN and remote write URL (`Observability.workspaceArn`, `.remoteWriteUrl`). */
  readonly workspaceArn: string;
  readonly remoteWriteUrl: string;
  readonly logRetentionDays: number;
  /** KMS key of the collector's log group; its policy must admit the `logs` service principal. */
  readonly logKmsKeyArn: string;
  /**
   * Collector image.
   * @default ADOT_COLLECTOR_IMAGE
   */
  readonly image?: string;
}

/**
 * Metrics collection on ECS: one ADOT collector task (a Fargate service in the services' cluster)
 * that discovers the service tasks through the ECS API (`ecs_observer`), scrapes their `/metrics`
 * and remote-writes to AMP with SigV4. One task per environment is enough for three services at a
 * 30 s interval; a sidecar per task would multiply collectors and ECS API calls.
 */
export class EcsMetricsCollector extends Construct {
  readonly service: EcsService;
  readonly taskDefinition: EcsTaskDefinition;
  readonly securityGroup: SecurityGroup;
  readonly taskRole: IamRole;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: EcsMetricsCollectorProps) {
    super(scope, id);
    const image = props.image ?? ADOT_COLLECTOR_IMAGE;
    const owner = `EcsMetricsCollector ${props.clusterName}`;
    assertLogRetention(owner, props.logRetentionDays);
    if (props.privateSubnetIds.length === 0)
      throw new Error(`${owner}: privateSubnetIds must name at least one subnet`);
    if (Object.keys(props.servicePorts).length === 0) {
      throw new Error(`${owner}: servicePorts must name at least one service`);
    }
    for (const [name, port] of Object.entries(props.servicePorts))
      assertPort(`${owner} ${name}`, "port", port);

    const family = `${props.clusterName}-metrics-collector`;
    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: `/ecs/${props.clusterName}/metrics-collector`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });

    const ecsTrust = (scopeId: string) =>
      policyDocument(this, scopeId, [ecsTasksTrust(props.accountId, props.region)]).json;

    const executionRole = new IamRole(this, "ExecutionRole", {
      name: `${family}-execution`,
      description: "Writes the metrics collector's logs when ECS starts its task",
      assumeRolePolicy: ecsTrust("ExecutionTrust"),
    });
    new IamRolePolicy(this, "ExecutionPolicy", {
      role: executionRole.name,
      name: "write-logs",
      policy: policyDocument(this, "ExecutionPolicyDocument", [
        {
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${this.logGroup.arn}:*`],
        },
      ]).json,
    });

    this.taskRole = new IamRole(this, "TaskRole", {
      name: `${family}-task`,
      description: "Discovers the service tasks and remote-writes their metrics to AMP",
      assumeRolePolicy: ecsTrust("TaskTrust"),
    });
    new IamRolePolicy(this, "TaskPolicy", {
      role: this.taskRole.name,
      name: "discover-and-remote-write",
      policy: policyDocument(this, "TaskPolicyDocument", [
        {
          sid: "RemoteWrite",
          effect: "Allow",
          actions: ["aps:RemoteWrite"],
          resources: [props.workspaceArn],
        },
        {
          sid: "DiscoverTasks",
          effect: "Allow",
          actions: ["ecs:ListTasks", "ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeTasks"],
          resources: ["*"],
          condition: [{ test: "ArnEquals", variable: "ecs:cluster", values: [props.clusterArn] }],
        },
        // DescribeTaskDefinition has no resource-level permissions: "*" is the only valid resource.
        {
          sid: "ReadTaskDefinitions",
          effect: "Allow",
          actions: ["ecs:DescribeTaskDefinition"],
          resources: ["*"],
        },
      ]).json,
    });

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: family,
      description: "Metrics collector: out to the services' metrics ports and to AWS APIs over HTTPS",
      vpcId: props.vpcId,
      tags: { Name: family },
    });
    new VpcSecurityGroupEgressRule(this, "EgressHttps", {
      securityGroupId: this.securityGroup.id,
      description: "AMP remote write and the ECS API",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });
    for (const [name, port] of Object.entries(props.servicePorts)) {
      const ruleId = pascalCase(name);
      new VpcSecurityGroupEgressRule(this, `Egress${ruleId}`, {
        securityGroupId: this.securityGroup.id,
        description: `scrape ${name}`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: props.servicesSecurityGroupId,
      });
      new VpcSecurityGroupIngressRule(this, `Ingress${ruleId}`, {
        securityGroupId: props.servicesSecurityGroupId,
        description: `metrics collector scrapes ${name}`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: this.securityGroup.id,
      });
    }

    const config = ecsCollectorConfig({
      env: props.environment,
      clusterName: props.clusterName,
      region: props.region,
      remoteWriteUrl: props.remoteWriteUrl,
      ports: props.servicePorts,
    });
    this.taskDefinition = new EcsTaskDefinition(this, "TaskDefinition", {
      family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
      executionRoleArn: executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      volume: [{ name: "ecs-targets" }],
      containerDefinitions: JSON.stringify([
        {
          name: "collector",
          image,
          essential: true,
          readonlyRootFilesystem: true,
          // The image's own config options are ignored when the whole configuration comes from this variable.
          environment: [{ name: "AOT_CONFIG_CONTENT", value: stringify(config, { lineWidth: 0 }) }],
          mountPoints: [{ sourceVolume: "ecs-targets", containerPath: ECS_TARGETS_DIR, readOnly: false }],
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": this.logGroup.name,
              "awslogs-region": props.region,
              "awslogs-stream-prefix": "collector",
            },
          },
        },
      ]),
    });
    this.service = new EcsService(this, "Service", {
      name: "metrics-collector",
      cluster: props.clusterArn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: 1,
      launchType: "FARGATE",
      networkConfiguration: {
        subnets: [...props.privateSubnetIds],
        securityGroups: [this.securityGroup.id],
        assignPublicIp: false,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
    });
  }
}
