import { DRAIN } from "@blueprint/service-kit/config";
import {
  AppautoscalingPolicy,
  type AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification as PredefinedMetric,
} from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { Construct } from "constructs";
import { type PolicyStatement, policyDocument } from "../iam/policy-document";
import { ecsTasksTrust } from "../iam/trust";
import { ServiceConstruct } from "../workload/service-constructs";
import { CONTAINER_USER, sortedEnvironment, type WorkloadDefinition } from "../workload/workload";
import type { EcsServicesProps } from "./ecs-services";
import { cpuUnits, FARGATE_TASK_SIZES, type FargateTaskSize, fargateTaskSize, secretArnOf } from "./fargate";

/** One service on the cluster: what to run, how big, and where the load balancer sends traffic. */
export interface EcsServiceDefinition extends WorkloadDefinition {
  /** ECR repository ARN; the execution role may pull from this repository only. */
  readonly repositoryArn: string;
  /** Role the application assumes (Kafka, its own secrets); created by the IAM module. */
  readonly taskRoleArn: string;
  /**
   * Environment variable name -> Secrets Manager ARN, optionally with a `:json-key::` suffix
   * (`arn:...:secret:blueprint/dev/db-AbCdEf:password::`). Injected by ECS at start, never written
   * into the task definition.
   * @default no secrets
   */
  readonly secrets?: Readonly<Record<string, string>>;
  /** ARN of the service's ALB target group (target type `ip`). */
  readonly targetGroupArn: string;
  /** ARN suffix of that target group (`targetgroup/<name>/<id>`), for the requests-per-target metric. */
  readonly targetGroupArnSuffix: string;
}

/** What every service of a cluster shares: the cluster's props with defaults applied, set once by `EcsServices`. */
export type FargateClusterSettings = Required<Omit<EcsServicesProps, "services">> & {
  readonly cluster: EcsCluster;
};

export interface FargateServiceProps {
  readonly service: EcsServiceDefinition;
  readonly cluster: FargateClusterSettings;
  /** Owner of the set in error messages, e.g. `EcsServices blueprint-dev`. */
  readonly owner: string;
}

/**
 * One Fargate service: its log group, an execution role limited to its own image, logs and
 * secrets, a non-root task with a read-only root filesystem, the ECS service behind its target
 * group with a circuit breaker, and target-tracking autoscaling on CPU and ALB requests per task.
 */
export class FargateService extends ServiceConstruct {
  readonly service: EcsService;
  /** Terraform's task definition revision; the pipeline registers later ones. */
  readonly taskDefinition: EcsTaskDefinition;
  /** Task definition family, for the delivery pipeline. */
  readonly family: string;
  readonly logGroup: CloudwatchLogGroup;
  /** Pulls, logs and reads secrets for this service only. */
  readonly executionRole: IamRole;

  constructor(scope: Construct, props: FargateServiceProps) {
    const { service, cluster } = props;
    const secrets = service.secrets ?? {};
    super(scope, {
      workload: service,
      setOwner: props.owner,
      secretsKey: "secrets",
      secretNames: Object.keys(secrets),
    });
    const secretArns = [
      ...new Set(
        Object.entries(secrets).map(([name, valueFrom]) => secretArnOf(this.owner, name, valueFrom)),
      ),
    ].sort();
    const size = taskSize(this.owner, service);

    this.family = `${cluster.clusterName}-${service.name}`;
    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: `/ecs/${cluster.clusterName}/${service.name}`,
      retentionInDays: cluster.logRetentionDays,
      kmsKeyId: cluster.logKmsKeyArn,
    });
    this.executionRole = new IamRole(this, "ExecutionRole", {
      name: `${this.family}-execution`,
      description: `Pulls the image, writes logs and reads the secrets of ${service.name} when ECS starts a task`,
      assumeRolePolicy: policyDocument(this, "ExecutionTrust", [
        ecsTasksTrust(cluster.accountId, cluster.region),
      ]).json,
    });
    const executionPolicy = new IamRolePolicy(this, "ExecutionPolicy", {
      name: "pull-log-read-secrets",
      role: this.executionRole.id,
      policy: policyDocument(this, "ExecutionPolicyDocument", this.executionStatements(props, secretArns))
        .json,
    });
    this.taskDefinition = new EcsTaskDefinition(this, "TaskDefinition", {
      family: this.family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(size.cpu),
      memory: String(size.memoryMiB),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: cluster.cpuArchitecture },
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: service.taskRoleArn,
      volume: [{ name: "tmp" }],
      containerDefinitions: JSON.stringify([this.container(props)]),
    });
    this.service = new EcsService(this, "Service", {
      name: service.name,
      cluster: cluster.cluster.arn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: service.sizing.replicas,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      networkConfiguration: {
        subnets: [...cluster.privateSubnetIds],
        securityGroups: [...cluster.securityGroupIds],
        assignPublicIp: false,
      },
      loadBalancer: [
        {
          targetGroupArn: service.targetGroupArn,
          containerName: service.name,
          containerPort: service.containerPort,
        },
      ],
      healthCheckGracePeriodSeconds: cluster.healthCheckGracePeriodSeconds,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      enableExecuteCommand: false,
      dependsOn: [executionPolicy],
      // The delivery pipeline registers a new task definition revision per release and points the
      // service at it, and autoscaling owns the running count. Without these, every apply would
      // roll the service back to Terraform's bootstrap revision and reset it to the initial count.
      lifecycle: { ignoreChanges: ["task_definition", "desired_count"] },
    });
    this.autoscale(props);
  }

  private executionStatements(props: FargateServiceProps, secretArns: string[]): PolicyStatement[] {
    const statements: PolicyStatement[] = [
      // GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
      { sid: "EcrAuthorization", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      {
        sid: "EcrPull",
        effect: "Allow",
        actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        resources: [props.service.repositoryArn],
      },
      {
        sid: "WriteLogs",
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${this.logGroup.arn}:log-stream:*`],
      },
    ];
    if (secretArns.length === 0) return statements;
    statements.push({
      sid: "ReadSecrets",
      effect: "Allow",
      actions: ["secretsmanager:GetSecretValue"],
      resources: secretArns,
    });
    if (props.cluster.secretKmsKeyArns.length > 0) {
      statements.push({
        sid: "DecryptSecrets",
        effect: "Allow",
        actions: ["kms:Decrypt"],
        resources: [...props.cluster.secretKmsKeyArns],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: [`secretsmanager.${props.cluster.region}.amazonaws.com`],
          },
        ],
      });
    }
    return statements;
  }

  private container({ service, cluster }: FargateServiceProps) {
    const secrets = service.secrets ?? {};
    return {
      name: service.name,
      image: this.initialImage,
      essential: true,
      user: String(CONTAINER_USER),
      readonlyRootFilesystem: true,
      privileged: false,
      cpu: cpuUnits(service.sizing.cpuRequestMillicores),
      memory: service.sizing.memoryLimitMiB,
      memoryReservation: service.sizing.memoryRequestMiB,
      portMappings: [
        { containerPort: service.containerPort, hostPort: service.containerPort, protocol: "tcp" },
      ],
      environment: sortedEnvironment(service.environment),
      secrets: Object.keys(secrets)
        .sort()
        .map((name) => ({ name, valueFrom: secrets[name] })),
      // The root filesystem is read-only; /tmp is the one writable path, on the task's ephemeral storage.
      mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
      linuxParameters: { capabilities: { drop: ["ALL"] } },
      // SIGKILL only after the drain (delay, then in-flight work) had its time.
      stopTimeout: DRAIN.gracePeriodSeconds,
      // The images ship node but no curl or wget.
      healthCheck: {
        command: [
          "CMD",
          "node",
          "-e",
          `fetch("http://127.0.0.1:${service.containerPort}/health").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: 15,
        timeout: 5,
        retries: 3,
        startPeriod: 30,
      },
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": cluster.region,
          "awslogs-stream-prefix": service.name,
        },
      },
    };
  }

  private autoscale({ service, cluster }: FargateServiceProps): void {
    const target = new AppautoscalingTarget(this, "ScalableTarget", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${cluster.cluster.name}/${this.service.name}`,
      minCapacity: service.sizing.minReplicas,
      maxCapacity: service.sizing.maxReplicas,
    });
    const policy = (id: string, suffix: string, metric: PredefinedMetric, targetValue: number) =>
      new AppautoscalingPolicy(this, id, {
        name: `${service.name}-${suffix}`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: metric,
          targetValue,
          scaleOutCooldown: 60,
          scaleInCooldown: 300,
        },
      });
    policy(
      "CpuScaling",
      "cpu",
      { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
      cluster.cpuTargetPercent,
    );
    policy(
      "MemoryScaling",
      "memory",
      { predefinedMetricType: "ECSServiceAverageMemoryUtilization" },
      cluster.memoryTargetPercent,
    );
    policy(
      "RequestScaling",
      "requests",
      {
        predefinedMetricType: "ALBRequestCountPerTarget",
        resourceLabel: `${cluster.loadBalancerArnSuffix}/${service.targetGroupArnSuffix}`,
      },
      cluster.requestsPerTarget,
    );
  }
}

/** The cheapest Fargate size holding the service's limits; throws saying how to fit one. */
function taskSize(owner: string, service: EcsServiceDefinition): FargateTaskSize {
  const cpu = cpuUnits(service.sizing.cpuLimitMillicores);
  const size = fargateTaskSize(cpu, service.sizing.memoryLimitMiB);
  if (size !== undefined) return size;
  const largest = FARGATE_TASK_SIZES[FARGATE_TASK_SIZES.length - 1];
  throw new Error(
    `${owner}: no Fargate task size holds cpuLimitMillicores ${service.sizing.cpuLimitMillicores} (${cpu} CPU units) ` +
      `and memoryLimitMiB ${service.sizing.memoryLimitMiB}; Fargate allows at most ${largest?.cpu} CPU units and ` +
      `${largest?.memoryMiB[largest.memoryMiB.length - 1]} MiB, with memory ranges per CPU size; lower the limits`,
  );
}
