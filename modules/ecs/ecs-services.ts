import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import type { Construct } from "constructs";
import { assertCpuTarget, assertLogRetention, assertMemoryTarget, assertTwoZones } from "../workload/limits";
import { ServiceSet } from "../workload/service-constructs";
import { validateWorkloadNames } from "../workload/workload";
import { type EcsServiceDefinition, type FargateClusterSettings, FargateService } from "./fargate-service";

export type { EcsServiceDefinition } from "./fargate-service";

export interface EcsServicesProps {
  /** Cluster name, e.g. `blueprint-dev`; prefixes task families, log groups and role names. */
  readonly clusterName: string;
  /** Account the cluster lives in; scopes the execution roles' trust (confused-deputy guard). */
  readonly accountId: string;
  /** Region of the cluster; the awslogs driver writes there. */
  readonly region: string;
  /** The services to run; at least one. */
  readonly services: readonly EcsServiceDefinition[];
  /** Private subnets the tasks run in (at least two AZs); tasks never get a public IP. */
  readonly privateSubnetIds: readonly string[];
  /** Security groups of the tasks: the platform's services group (in only from the ALB). */
  readonly securityGroupIds: readonly string[];
  /** ARN suffix of the ALB (`app/<name>/<id>`), for the requests-per-target metric. */
  readonly loadBalancerArnSuffix: string;
  /** Retention of every log group the construct creates; a CloudWatch Logs retention value. */
  readonly logRetentionDays: number;
  /** KMS key encrypting the log groups; its policy must admit the `logs` service principal. */
  readonly logKmsKeyArn: string;
  /**
   * KMS keys encrypting the secrets; the execution roles may decrypt with them through
   * Secrets Manager only.
   * @default none (secrets under the AWS managed key)
   */
  readonly secretKmsKeyArns?: readonly string[];
  /**
   * CPU architecture of the tasks; ARM64 (Graviton) is about 20 % cheaper when the images are built for it.
   * @default "X86_64"
   */
  readonly cpuArchitecture?: "X86_64" | "ARM64";
  /**
   * Average CPU utilisation, in percent of the task's CPU, that autoscaling keeps the service at.
   * @default 70
   */
  readonly cpuTargetPercent?: number;
  /**
   * Average memory utilisation, in percent of the task's memory, that autoscaling keeps the service at.
   * @default 80
   */
  readonly memoryTargetPercent?: number;
  /**
   * ALB requests per task that autoscaling keeps the service at.
   * @default 500
   */
  readonly requestsPerTarget?: number;
  /**
   * Seconds ECS ignores failing load balancer health checks after a task starts.
   * @default 60
   */
  readonly healthCheckGracePeriodSeconds?: number;
}

/**
 * An ECS cluster with Container Insights and one `FargateService` per definition (see there for
 * what each service gets).
 */
export class EcsServices extends ServiceSet<FargateService> {
  readonly cluster: EcsCluster;
  /**
   * Name of the ECS cluster, as given: a plain value, so a stack that reads it from another layer needs
   * no new remote state output (one the layer's current state lacks fails that stack's plan).
   */
  readonly clusterName: string;
  /** Container Insights performance log group, pre-created so it is encrypted and expires. */
  readonly containerInsightsLogGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: EcsServicesProps) {
    const owner = `EcsServices ${props.clusterName}`;
    super(scope, id, owner);
    this.clusterName = props.clusterName;
    const settings = validatedSettings(owner, props);
    this.containerInsightsLogGroup = new CloudwatchLogGroup(this, "ContainerInsightsLogGroup", {
      name: `/aws/ecs/containerinsights/${props.clusterName}/performance`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });
    this.cluster = new EcsCluster(this, "Cluster", {
      name: props.clusterName,
      setting: [{ name: "containerInsights", value: "enabled" }],
      dependsOn: [this.containerInsightsLogGroup],
    });
    for (const service of props.services) {
      this.addService(
        service.name,
        () => new FargateService(this, { service, owner, cluster: { ...settings, cluster: this.cluster } }),
      );
    }
  }
}

/** Props with defaults applied, after the checks that need no resource. */
function validatedSettings(owner: string, props: EcsServicesProps): Omit<FargateClusterSettings, "cluster"> {
  const settings = {
    clusterName: props.clusterName,
    region: props.region,
    accountId: props.accountId,
    privateSubnetIds: props.privateSubnetIds,
    securityGroupIds: props.securityGroupIds,
    loadBalancerArnSuffix: props.loadBalancerArnSuffix,
    logRetentionDays: props.logRetentionDays,
    logKmsKeyArn: props.logKmsKeyArn,
    secretKmsKeyArns: props.secretKmsKeyArns ?? [],
    cpuArchitecture: props.cpuArchitecture ?? "X86_64",
    cpuTargetPercent: props.cpuTargetPercent ?? 70,
    memoryTargetPercent: props.memoryTargetPercent ?? 80,
    requestsPerTarget: props.requestsPerTarget ?? 500,
    healthCheckGracePeriodSeconds: props.healthCheckGracePeriodSeconds ?? 60,
  } as const;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.clusterName)) {
    throw new Error(
      `${owner}: clusterName must be letters, digits, hyphens and underscores, got "${props.clusterName}"`,
    );
  }
  assertTwoZones(owner, "privateSubnetIds", props.privateSubnetIds);
  if (props.securityGroupIds.length === 0)
    throw new Error(`${owner}: securityGroupIds must name the services' security group`);
  assertLogRetention(owner, props.logRetentionDays);
  assertCpuTarget(owner, settings.cpuTargetPercent);
  assertMemoryTarget(owner, settings.memoryTargetPercent);
  if (!(settings.requestsPerTarget >= 1))
    throw new Error(`${owner}: requestsPerTarget must be at least 1, got ${settings.requestsPerTarget}`);
  const grace = settings.healthCheckGracePeriodSeconds;
  if (!(grace >= 0 && grace <= 2_147_483_647)) {
    throw new Error(`${owner}: healthCheckGracePeriodSeconds must be 0 or more, got ${grace}`);
  }
  validateWorkloadNames(owner, props.services);
  return settings;
}
