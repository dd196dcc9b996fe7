import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Token } from "cdktf";
import { Construct } from "constructs";
import type { ServiceSizing } from "../../environments/types";
import { type PolicyStatement, policyDocument } from "../iam/policy-document";
import {
  assertEnvironmentNames,
  assertLogRetention,
  assertNoSecretLikeEnvironment,
  assertPort,
  assertServiceName,
  assertSizing,
  pascalCase,
} from "./compute-validation";
import { cpuUnits, FARGATE_TASK_SIZES, fargateTaskSize, secretArnOf } from "./fargate";

/** UID the containers run as; the images create it and own nothing else. */
export const CONTAINER_USER = "10001";

/** One service on the cluster: what to run, how big, and where the load balancer sends traffic. */
export interface EcsServiceDefinition {
  /** Service name, e.g. `user-service`; names the ECS service, container, log group and roles. */
  readonly name: string;
  /** Port the container listens on; the target group sends traffic there (target type `ip`). */
  readonly containerPort: number;
  /** ECR repository URL without a tag, e.g. `111111111111.dkr.ecr.eu-west-1.amazonaws.com/blueprint/user-service`. */
  readonly repositoryUrl: string;
  /** ECR repository ARN; the execution role may pull from this repository only. */
  readonly repositoryArn: string;
  /**
   * Image tag of the first task definition revision. The delivery pipeline registers the revisions
   * that follow, so Terraform never rolls an image back.
   * @default "bootstrap"
   */
  readonly initialImageTag?: string;
  /** Replicas, autoscaling range and CPU/memory; the task size is the cheapest Fargate size holding the limits. */
  readonly sizing: ServiceSizing;
  /** Role the application assumes (Kafka, its own secrets); created by the IAM module. */
  readonly taskRoleArn: string;
  /**
   * Environment variable name -> Secrets Manager ARN, optionally with a `:json-key::` suffix
   * (`arn:...:secret:blueprint/dev/db-AbCdEf:password::`). Injected by ECS at start, never written
   * into the task definition.
   * @default no secrets
   */
  readonly secrets?: Readonly<Record<string, string>>;
  /**
   * Plain, non-secret environment variables. Names that look like credentials are rejected.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** ARN of the service's ALB target group (target type `ip`). */
  readonly targetGroupArn: string;
  /** ARN suffix of that target group (`targetgroup/<name>/<id>`), for the requests-per-target metric. */
  readonly targetGroupArnSuffix: string;
}

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
   * @default 60
   */
  readonly cpuTargetPercent?: number;
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
 * An ECS cluster with Container Insights and one Fargate service per definition: a CloudWatch log
 * group, an execution role limited to its own image, logs and secrets, a non-root task with a
 * read-only root filesystem, a service in private subnets behind the ALB with a deployment circuit
 * breaker and rollback, and target-tracking autoscaling on CPU and on ALB requests per task.
 */
export class EcsServices extends Construct {
  readonly cluster: EcsCluster;
  /** ECS services by service name. */
  readonly services: Readonly<Record<string, EcsService>>;
  /** Terraform's task definition revision by service name; the pipeline registers later ones. */
  readonly taskDefinitions: Readonly<Record<string, EcsTaskDefinition>>;
  /** Task definition family by service name, for the delivery pipeline. */
  readonly taskFamilies: Readonly<Record<string, string>>;
  /** Application log group by service name. */
  readonly logGroups: Readonly<Record<string, CloudwatchLogGroup>>;
  /** Container Insights performance log group, pre-created so it is encrypted and expires. */
  readonly containerInsightsLogGroup: CloudwatchLogGroup;
  /** Task execution role by service name (one per service: each pulls, logs and reads only its own). */
  readonly executionRoles: Readonly<Record<string, IamRole>>;

  constructor(scope: Construct, id: string, props: EcsServicesProps) {
    super(scope, id);
    const secretKmsKeyArns = props.secretKmsKeyArns ?? [];
    const cpuArchitecture = props.cpuArchitecture ?? "X86_64";
    const cpuTargetPercent = props.cpuTargetPercent ?? 60;
    const requestsPerTarget = props.requestsPerTarget ?? 500;
    const healthCheckGracePeriodSeconds = props.healthCheckGracePeriodSeconds ?? 60;

    const owner = `EcsServices ${props.clusterName}`;
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.clusterName)) {
      throw new Error(
        `${owner}: clusterName must be letters, digits, hyphens and underscores, got "${props.clusterName}"`,
      );
    }
    if (props.services.length === 0) throw new Error(`${owner}: services must name at least one service`);
    if (props.privateSubnetIds.length < 2) {
      throw new Error(
        `${owner}: privateSubnetIds must span at least 2 AZs, got ${props.privateSubnetIds.length} subnet(s)`,
      );
    }
    if (props.securityGroupIds.length === 0)
      throw new Error(`${owner}: securityGroupIds must name the services' security group`);
    assertLogRetention(owner, props.logRetentionDays);
    if (!(cpuTargetPercent >= 10 && cpuTargetPercent <= 90)) {
      throw new Error(`${owner}: cpuTargetPercent must be from 10 to 90, got ${cpuTargetPercent}`);
    }
    if (!(requestsPerTarget >= 1))
      throw new Error(`${owner}: requestsPerTarget must be at least 1, got ${requestsPerTarget}`);
    if (!(healthCheckGracePeriodSeconds >= 0 && healthCheckGracePeriodSeconds <= 2_147_483_647)) {
      throw new Error(
        `${owner}: healthCheckGracePeriodSeconds must be 0 or more, got ${healthCheckGracePeriodSeconds}`,
      );
    }
    const seen = new Set<string>();
    for (const service of props.services) {
      assertServiceName(owner, service.name);
      if (seen.has(service.name)) throw new Error(`${owner}: service "${service.name}" is defined twice`);
      seen.add(service.name);
    }

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

    const services: Record<string, EcsService> = {};
    const taskDefinitions: Record<string, EcsTaskDefinition> = {};
    const taskFamilies: Record<string, string> = {};
    const logGroups: Record<string, CloudwatchLogGroup> = {};
    const executionRoles: Record<string, IamRole> = {};

    for (const service of props.services) {
      const serviceOwner = `${owner} service ${service.name}`;
      const initialImageTag = service.initialImageTag ?? "bootstrap";
      const secrets = service.secrets ?? {};
      const environment = service.environment ?? {};
      assertPort(serviceOwner, "containerPort", service.containerPort);
      assertSizing(serviceOwner, service.sizing);
      assertEnvironmentNames(serviceOwner, "secrets", Object.keys(secrets));
      assertEnvironmentNames(serviceOwner, "environment", Object.keys(environment));
      assertNoSecretLikeEnvironment(serviceOwner, Object.keys(environment));
      const both = Object.keys(environment).find((name) => name in secrets);
      if (both !== undefined) {
        throw new Error(
          `${serviceOwner}: ${both} is both a secret and a plain environment variable; keep it in secrets only`,
        );
      }
      if (
        !Token.isUnresolved(initialImageTag) &&
        !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(initialImageTag)
      ) {
        throw new Error(`${serviceOwner}: initialImageTag must be a Docker tag, got "${initialImageTag}"`);
      }
      const secretArns = [
        ...new Set(
          Object.entries(secrets).map(([name, valueFrom]) => secretArnOf(serviceOwner, name, valueFrom)),
        ),
      ].sort();

      const taskCpu = cpuUnits(service.sizing.cpuLimitMillicores);
      const size = fargateTaskSize(taskCpu, service.sizing.memoryLimitMiB);
      if (size === undefined) {
        const largest = FARGATE_TASK_SIZES[FARGATE_TASK_SIZES.length - 1];
        throw new Error(
          `${serviceOwner}: no Fargate task size holds cpuLimitMillicores ${service.sizing.cpuLimitMillicores} (${taskCpu} CPU units) ` +
            `and memoryLimitMiB ${service.sizing.memoryLimitMiB}; Fargate allows at most ${largest?.cpu} CPU units and ` +
            `${largest?.memoryMiB[largest.memoryMiB.length - 1]} MiB, with memory ranges per CPU size; lower the limits`,
        );
      }

      const scope = new Construct(this, pascalCase(service.name));
      const family = `${props.clusterName}-${service.name}`;
      const logGroup = new CloudwatchLogGroup(scope, "LogGroup", {
        name: `/ecs/${props.clusterName}/${service.name}`,
        retentionInDays: props.logRetentionDays,
        kmsKeyId: props.logKmsKeyArn,
      });

      const executionRole = new IamRole(scope, "ExecutionRole", {
        name: `${family}-execution`,
        description: `Pulls the image, writes logs and reads the secrets of ${service.name} when ECS starts a task`,
        assumeRolePolicy: policyDocument(scope, "ExecutionTrust", [
          {
            effect: "Allow",
            actions: ["sts:AssumeRole"],
            principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
            condition: [
              { test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] },
              {
                test: "ArnLike",
                variable: "aws:SourceArn",
                values: [`arn:aws:ecs:${props.region}:${props.accountId}:*`],
              },
            ],
          },
        ]).json,
      });
      const statements: PolicyStatement[] = [
        // GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
        {
          sid: "EcrAuthorization",
          effect: "Allow",
          actions: ["ecr:GetAuthorizationToken"],
          resources: ["*"],
        },
        {
          sid: "EcrPull",
          effect: "Allow",
          actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          resources: [service.repositoryArn],
        },
        {
          sid: "WriteLogs",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${logGroup.arn}:log-stream:*`],
        },
      ];
      if (secretArns.length > 0) {
        statements.push({
          sid: "ReadSecrets",
          effect: "Allow",
          actions: ["secretsmanager:GetSecretValue"],
          resources: secretArns,
        });
        if (secretKmsKeyArns.length > 0) {
          statements.push({
            sid: "DecryptSecrets",
            effect: "Allow",
            actions: ["kms:Decrypt"],
            resources: [...secretKmsKeyArns],
            condition: [
              {
                test: "StringEquals",
                variable: "kms:ViaService",
                values: [`secretsmanager.${props.region}.amazonaws.com`],
              },
            ],
          });
        }
      }
      const executionPolicy = new IamRolePolicy(scope, "ExecutionPolicy", {
        name: "pull-log-read-secrets",
        role: executionRole.id,
        policy: policyDocument(scope, "ExecutionPolicyDocument", statements).json,
      });

      const container = {
        name: service.name,
        image: `${service.repositoryUrl}:${initialImageTag}`,
        essential: true,
        user: CONTAINER_USER,
        readonlyRootFilesystem: true,
        privileged: false,
        cpu: cpuUnits(service.sizing.cpuRequestMillicores),
        memory: service.sizing.memoryLimitMiB,
        memoryReservation: service.sizing.memoryRequestMiB,
        portMappings: [
          { containerPort: service.containerPort, hostPort: service.containerPort, protocol: "tcp" },
        ],
        environment: Object.keys(environment)
          .sort()
          .map((name) => ({ name, value: environment[name] })),
        secrets: Object.keys(secrets)
          .sort()
          .map((name) => ({ name, valueFrom: secrets[name] })),
        // The root filesystem is read-only; /tmp is the one writable path, on the task's ephemeral storage.
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        linuxParameters: { capabilities: { drop: ["ALL"] } },
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
            "awslogs-group": logGroup.name,
            "awslogs-region": props.region,
            "awslogs-stream-prefix": service.name,
          },
        },
      };
      const taskDefinition = new EcsTaskDefinition(scope, "TaskDefinition", {
        family,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(size.cpu),
        memory: String(size.memoryMiB),
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture },
        executionRoleArn: executionRole.arn,
        taskRoleArn: service.taskRoleArn,
        volume: [{ name: "tmp" }],
        containerDefinitions: JSON.stringify([container]),
      });

      const ecsService = new EcsService(scope, "Service", {
        name: service.name,
        cluster: this.cluster.arn,
        taskDefinition: taskDefinition.arn,
        desiredCount: service.sizing.replicas,
        launchType: "FARGATE",
        platformVersion: "LATEST",
        networkConfiguration: {
          subnets: [...props.privateSubnetIds],
          securityGroups: [...props.securityGroupIds],
          assignPublicIp: false,
        },
        loadBalancer: [
          {
            targetGroupArn: service.targetGroupArn,
            containerName: service.name,
            containerPort: service.containerPort,
          },
        ],
        healthCheckGracePeriodSeconds,
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

      const scalableTarget = new AppautoscalingTarget(scope, "ScalableTarget", {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: `service/${this.cluster.name}/${ecsService.name}`,
        minCapacity: service.sizing.minReplicas,
        maxCapacity: service.sizing.maxReplicas,
      });
      const scaling = {
        policyType: "TargetTrackingScaling",
        serviceNamespace: scalableTarget.serviceNamespace,
        scalableDimension: scalableTarget.scalableDimension,
        resourceId: scalableTarget.resourceId,
      };
      new AppautoscalingPolicy(scope, "CpuScaling", {
        ...scaling,
        name: `${service.name}-cpu`,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
          targetValue: cpuTargetPercent,
          scaleOutCooldown: 60,
          scaleInCooldown: 300,
        },
      });
      new AppautoscalingPolicy(scope, "RequestScaling", {
        ...scaling,
        name: `${service.name}-requests`,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: `${props.loadBalancerArnSuffix}/${service.targetGroupArnSuffix}`,
          },
          targetValue: requestsPerTarget,
          scaleOutCooldown: 60,
          scaleInCooldown: 300,
        },
      });

      services[service.name] = ecsService;
      taskDefinitions[service.name] = taskDefinition;
      taskFamilies[service.name] = family;
      logGroups[service.name] = logGroup;
      executionRoles[service.name] = executionRole;
    }

    this.services = services;
    this.taskDefinitions = taskDefinitions;
    this.taskFamilies = taskFamilies;
    this.logGroups = logGroups;
    this.executionRoles = executionRoles;
  }
}
