import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { ECS_TARGETS_DIR, ecsCollectorConfig, OTLP_HTTP_PORT } from "../../dashboards/src/cloud-scrape";
import { policyDocument } from "../iam/policy-document";
import { ecsTasksTrust } from "../iam/trust";
import { assertLogRetention, assertPort } from "../workload/limits";
import { pascalCase } from "../workload/workload";
import { PUBLISH_TRACES } from "./xray";

/** AWS Distro for OpenTelemetry collector image, pinned. */
export const ADOT_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.47.0";

/** Private DNS namespace of a cluster's collector (`.internal` is reserved for private use). */
function collectorNamespace(clusterName: string): string {
  return `${clusterName}.internal`;
}

/** The collector's name in its namespace. */
const COLLECTOR_DISCOVERY_NAME = "otel-collector";

/**
 * Where the services of cluster `clusterName` send their spans (`OTEL_EXPORTER_OTLP_ENDPOINT`): the
 * collector's Cloud Map name, which exists before the collector does, so the compute layer can
 * set it without reading the observability layer.
 */
export function ecsCollectorOtlpEndpoint(clusterName: string): string {
  return `http://${COLLECTOR_DISCOVERY_NAME}.${collectorNamespace(clusterName)}:${OTLP_HTTP_PORT}`;
}

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
  /**
   * Security group of the service tasks; the collector is let in on each service port, and the
   * services out to the collector's OTLP port.
   */
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
 * Metrics and traces on ECS: one ADOT collector task (a Fargate service in the services' cluster)
 * that discovers the service tasks through the ECS API (`ecs_observer`), scrapes their `/metrics`
 * and remote-writes to AMP with SigV4, and receives the services' spans over OTLP/HTTP at its
 * Cloud Map name (`ecsCollectorOtlpEndpoint`) and sends them to X-Ray. One task per environment is
 * enough for three services at a 30 s interval; a sidecar per task would multiply collectors and
 * ECS API calls (decision 0053).
 */
export class EcsMetricsCollector extends Construct {
  readonly service: EcsService;
  readonly taskDefinition: EcsTaskDefinition;
  readonly securityGroup: SecurityGroup;
  readonly taskRole: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  /** Cloud Map service the collector's tasks register in; its name is `ecsCollectorOtlpEndpoint`'s host. */
  readonly discovery: ServiceDiscoveryService;

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
      description:
        "Discovers the service tasks, remote-writes their metrics to AMP and their traces to X-Ray",
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
        PUBLISH_TRACES,
      ]).json,
    });

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: family,
      description:
        "Metrics collector: in from the services' spans, out to their metrics ports and to AWS APIs",
      vpcId: props.vpcId,
      tags: { Name: family },
    });
    new VpcSecurityGroupEgressRule(this, "EgressHttps", {
      securityGroupId: this.securityGroup.id,
      description: "AMP remote write, X-Ray and the ECS API",
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

    new VpcSecurityGroupIngressRule(this, "IngressOtlp", {
      securityGroupId: this.securityGroup.id,
      description: "spans from the services over OTLP/HTTP",
      ipProtocol: "tcp",
      fromPort: OTLP_HTTP_PORT,
      toPort: OTLP_HTTP_PORT,
      referencedSecurityGroupId: props.servicesSecurityGroupId,
    });
    new VpcSecurityGroupEgressRule(this, "ServicesEgressOtlp", {
      securityGroupId: props.servicesSecurityGroupId,
      description: "services send spans to the collector",
      ipProtocol: "tcp",
      fromPort: OTLP_HTTP_PORT,
      toPort: OTLP_HTTP_PORT,
      referencedSecurityGroupId: this.securityGroup.id,
    });
    this.discovery = this.discoveryService(props.clusterName, props.vpcId);

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
          portMappings: [{ containerPort: OTLP_HTTP_PORT, hostPort: OTLP_HTTP_PORT, protocol: "tcp" }],
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
      serviceRegistries: { registryArn: this.discovery.arn },
      deploymentCircuitBreaker: { enable: true, rollback: true },
    });
  }

  /**
   * The collector's Cloud Map name: an A record per running task, registered and removed by ECS as
   * tasks start and stop; the short TTL bounds how long a replaced task's address is used.
   */
  private discoveryService(clusterName: string, vpcId: string): ServiceDiscoveryService {
    const namespace = new ServiceDiscoveryPrivateDnsNamespace(this, "Namespace", {
      name: collectorNamespace(clusterName),
      description: `Names of ${clusterName}'s telemetry collector`,
      vpc: vpcId,
    });
    return new ServiceDiscoveryService(this, "Discovery", {
      name: COLLECTOR_DISCOVERY_NAME,
      dnsConfig: {
        namespaceId: namespace.id,
        routingPolicy: "MULTIVALUE",
        dnsRecords: [{ type: "A", ttl: 10 }],
      },
    });
  }
}
