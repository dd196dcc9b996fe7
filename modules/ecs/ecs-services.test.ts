import { DRAIN } from "@blueprint/service-kit/config";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { describe, expect, it } from "vitest";
import type { ServiceSizing } from "../../environments/types";
import {
  onlyResource,
  policyStatements,
  resourcesOf,
  type SynthesizedStack,
  synthConstruct,
  synthesizer,
} from "../testing/synth";
import { type EcsServiceDefinition, EcsServices, type EcsServicesProps } from "./ecs-services";
import { fargateTaskSize, secretArnOf } from "./fargate";

/** A Terraform interpolation as it appears in synthesized JSON. */
const ref = (expression: string) => `\${${expression}}`;

const SECRET =
  "arn:aws:secretsmanager:eu-west-1:111111111111:secret:blueprint/dev/user-service/database-AbCdEf";
const LOG_KEY = "arn:aws:kms:eu-west-1:111111111111:key/logs";
const SECRET_KEY = "arn:aws:kms:eu-west-1:111111111111:key/secrets";

const sizing: ServiceSizing = {
  replicas: 2,
  minReplicas: 2,
  maxReplicas: 4,
  cpuRequestMillicores: 250,
  cpuLimitMillicores: 500,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
};

function service(overrides: Partial<EcsServiceDefinition> = {}): EcsServiceDefinition {
  return {
    name: "user-service",
    containerPort: 8081,
    repositoryUrl: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/blueprint/user-service",
    repositoryArn: "arn:aws:ecr:eu-west-1:111111111111:repository/blueprint/user-service",
    sizing,
    taskRoleArn: "arn:aws:iam::111111111111:role/blueprint-dev-user-service",
    targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/user/abc",
    targetGroupArnSuffix: "targetgroup/user/abc",
    ...overrides,
  };
}

function props(overrides: Partial<EcsServicesProps> = {}): EcsServicesProps {
  return {
    clusterName: "blueprint-dev",
    accountId: "111111111111",
    region: "eu-west-1",
    services: [service()],
    privateSubnetIds: ["subnet-a", "subnet-b"],
    securityGroupIds: ["sg-services"],
    loadBalancerArnSuffix: "app/blueprint-dev/123",
    logRetentionDays: 30,
    logKmsKeyArn: LOG_KEY,
    ...overrides,
  };
}

const synth = synthesizer(EcsServices, "Compute", props());

function build(overrides: Partial<EcsServicesProps>): () => void {
  return () => synth(overrides);
}

type Container = Record<string, unknown> & {
  secrets: { name: string; valueFrom: string }[];
  environment: { name: string; value: string }[];
};

function containerOf(stack: SynthesizedStack): Container {
  const task = onlyResource(stack, "aws_ecs_task_definition");
  const containers = JSON.parse(task.container_definitions as string) as Container[];
  expect(containers).toHaveLength(1);
  return containers[0] as Container;
}

describe("EcsServices", () => {
  describe("with minimal props", () => {
    const stack = synth();

    it("When synthesized, then the cluster has Container Insights on and its performance log group is pre-created", () => {
      expect(onlyResource(stack, "aws_ecs_cluster")).toMatchObject({
        name: "blueprint-dev",
        setting: [{ name: "containerInsights", value: "enabled" }],
      });
      const groups = resourcesOf(stack, "aws_cloudwatch_log_group");
      expect(groups.map((g) => g.name).sort()).toEqual([
        "/aws/ecs/containerinsights/blueprint-dev/performance",
        "/ecs/blueprint-dev/user-service",
      ]);
    });

    it("When synthesized, then every log group keeps logs for the given retention, encrypted with the given key", () => {
      for (const group of resourcesOf(stack, "aws_cloudwatch_log_group")) {
        expect(group).toMatchObject({ retention_in_days: 30, kms_key_id: LOG_KEY });
      }
    });

    it("When synthesized, then the task is Fargate awsvpc on X86_64 with the cheapest size holding the limits", () => {
      expect(onlyResource(stack, "aws_ecs_task_definition")).toMatchObject({
        family: "blueprint-dev-user-service",
        requires_compatibilities: ["FARGATE"],
        network_mode: "awsvpc",
        cpu: "512",
        memory: "1024",
        runtime_platform: { operating_system_family: "LINUX", cpu_architecture: "X86_64" },
        task_role_arn: "arn:aws:iam::111111111111:role/blueprint-dev-user-service",
        volume: [{ name: "tmp" }],
      });
    });

    it("When synthesized, then the container runs as a non-root user on a read-only root filesystem with /tmp writable", () => {
      const container = containerOf(stack);
      expect(container).toMatchObject({
        name: "user-service",
        image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/blueprint/user-service:bootstrap",
        user: "10001",
        readonlyRootFilesystem: true,
        privileged: false,
        linuxParameters: { capabilities: { drop: ["ALL"] } },
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        portMappings: [{ containerPort: 8081, hostPort: 8081, protocol: "tcp" }],
        cpu: 256,
        memory: 512,
        memoryReservation: 256,
      });
    });

    it("When no secrets or environment are given, then the container gets none", () => {
      expect(containerOf(stack)).toMatchObject({ secrets: [], environment: [] });
    });

    it("When synthesized, then the container health check asks /health with node, since the images have no curl", () => {
      const command = (containerOf(stack).healthCheck as { command: string[] }).command;
      expect(command.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
      expect(command[3]).toContain('fetch("http://127.0.0.1:8081/health")');
    });

    it("When a task is stopped, then ECS sends SIGKILL only after the drain delay and the drain had their time", () => {
      expect(containerOf(stack).stopTimeout).toBe(DRAIN.gracePeriodSeconds);
    });

    it("When synthesized, then the container logs to its own log group through awslogs", () => {
      expect(containerOf(stack).logConfiguration).toEqual({
        logDriver: "awslogs",
        options: {
          "awslogs-group": expect.stringMatching(
            /^\$\{aws_cloudwatch_log_group\.Compute_UserService_LogGroup_[0-9A-F]+\.name\}$/,
          ),
          "awslogs-region": "eu-west-1",
          "awslogs-stream-prefix": "user-service",
        },
      });
    });

    it("When synthesized, then the service runs on Fargate LATEST in private subnets without a public IP behind the target group", () => {
      expect(onlyResource(stack, "aws_ecs_service")).toMatchObject({
        name: "user-service",
        launch_type: "FARGATE",
        platform_version: "LATEST",
        desired_count: 2,
        network_configuration: {
          subnets: ["subnet-a", "subnet-b"],
          security_groups: ["sg-services"],
          assign_public_ip: false,
        },
        load_balancer: [
          {
            target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/user/abc",
            container_name: "user-service",
            container_port: 8081,
          },
        ],
        health_check_grace_period_seconds: 60,
        propagate_tags: "SERVICE",
        enable_execute_command: false,
      });
    });

    it("When a deployment fails, then the circuit breaker rolls it back, never dropping below the desired count", () => {
      expect(onlyResource(stack, "aws_ecs_service")).toMatchObject({
        deployment_circuit_breaker: { enable: true, rollback: true },
        deployment_minimum_healthy_percent: 100,
        deployment_maximum_percent: 200,
      });
    });

    it("When the pipeline deploys a revision or autoscaling changes the count, then Terraform leaves both alone", () => {
      expect(onlyResource(stack, "aws_ecs_service").lifecycle).toEqual({
        ignore_changes: ["task_definition", "desired_count"],
      });
    });

    it("When synthesized, then the service scales between min and max on CPU at 70 %, memory at 80 % and on 500 ALB requests per task", () => {
      expect(onlyResource(stack, "aws_appautoscaling_target")).toMatchObject({
        service_namespace: "ecs",
        scalable_dimension: "ecs:service:DesiredCount",
        min_capacity: 2,
        max_capacity: 4,
      });
      const policies = resourcesOf(stack, "aws_appautoscaling_policy");
      expect(policies.map((p) => p.target_tracking_scaling_policy_configuration)).toEqual([
        expect.objectContaining({
          predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" },
          target_value: 70,
        }),
        expect.objectContaining({
          predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageMemoryUtilization" },
          target_value: 80,
        }),
        expect.objectContaining({
          predefined_metric_specification: {
            predefined_metric_type: "ALBRequestCountPerTarget",
            resource_label: "app/blueprint-dev/123/targetgroup/user/abc",
          },
          target_value: 500,
        }),
      ]);
      for (const policy of policies) expect(policy.policy_type).toBe("TargetTrackingScaling");
    });

    it("When synthesized, then the execution role pulls only its repository and writes only its log group", () => {
      const statements = policyStatements(stack);
      expect(statements).toContainEqual(
        expect.objectContaining({
          sid: "EcrPull",
          resources: ["arn:aws:ecr:eu-west-1:111111111111:repository/blueprint/user-service"],
        }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          sid: "WriteLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [
            expect.stringMatching(
              /^\$\{aws_cloudwatch_log_group\.Compute_UserService_LogGroup_[0-9A-F]+\.arn\}:log-stream:\*$/,
            ),
          ],
        }),
      );
      expect(statements.some((s) => s.sid === "ReadSecrets")).toBe(false);
    });

    it("When synthesized, then only ECS tasks of this account may assume the execution role", () => {
      expect(policyStatements(stack)).toContainEqual(
        expect.objectContaining({
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] },
            { test: "ArnLike", variable: "aws:SourceArn", values: ["arn:aws:ecs:eu-west-1:111111111111:*"] },
          ],
        }),
      );
    });

    it("When synthesized, then no IAM statement grants a wildcard action", () => {
      const actions = policyStatements(stack).flatMap((s) => s.actions as string[]);
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    });
  });

  describe("with secrets and environment", () => {
    const stack = synth({
      secretKmsKeyArns: [SECRET_KEY],
      services: [
        service({
          secrets: { DATABASE_PASSWORD: `${SECRET}:password::`, DATABASE_USER: `${SECRET}:username::` },
          environment: { LOG_LEVEL: "info", KAFKA_CLIENT_ID: "user-service" },
          initialImageTag: "v1",
        }),
      ],
    });

    it("When secrets are given, then the container receives them through valueFrom and never as environment literals", () => {
      const container = containerOf(stack);
      expect(container.secrets).toEqual([
        { name: "DATABASE_PASSWORD", valueFrom: `${SECRET}:password::` },
        { name: "DATABASE_USER", valueFrom: `${SECRET}:username::` },
      ]);
      expect(container.environment).toEqual([
        { name: "KAFKA_CLIENT_ID", value: "user-service" },
        { name: "LOG_LEVEL", value: "info" },
      ]);
      expect(container.image).toMatch(/:v1$/);
    });

    it("When secrets are given, then the execution role reads exactly those secrets and decrypts only through Secrets Manager", () => {
      const statements = policyStatements(stack);
      expect(statements).toContainEqual(
        expect.objectContaining({
          sid: "ReadSecrets",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [SECRET],
        }),
      );
      expect(statements).toContainEqual(
        expect.objectContaining({
          sid: "DecryptSecrets",
          actions: ["kms:Decrypt"],
          resources: [SECRET_KEY],
          condition: [
            {
              test: "StringEquals",
              variable: "kms:ViaService",
              values: ["secretsmanager.eu-west-1.amazonaws.com"],
            },
          ],
        }),
      );
    });
  });

  it("When secrets are given without their KMS keys, then the role reads them but decrypts with no customer key", () => {
    const statements = policyStatements(
      synth({ services: [service({ secrets: { DATABASE_PASSWORD: SECRET } })] }),
    );
    expect(statements.map((s) => s.sid)).toContain("ReadSecrets");
    expect(statements.map((s) => s.sid)).not.toContain("DecryptSecrets");
  });

  describe("with every knob set", () => {
    const stack = synth({
      cpuArchitecture: "ARM64",
      cpuTargetPercent: 70,
      requestsPerTarget: 800,
      healthCheckGracePeriodSeconds: 120,
      services: [service(), service({ name: "order-service", containerPort: 8082 })],
    });

    it("When two services are given, then each gets its own service, task, log group and execution role", () => {
      expect(resourcesOf(stack, "aws_ecs_service").map((s) => s.name)).toEqual([
        "order-service",
        "user-service",
      ]);
      expect(resourcesOf(stack, "aws_iam_role").map((r) => r.name)).toEqual([
        "blueprint-dev-order-service-execution",
        "blueprint-dev-user-service-execution",
      ]);
      expect(resourcesOf(stack, "aws_cloudwatch_log_group")).toHaveLength(3);
    });

    it("When ARM64 and scaling targets are set, then the tasks, grace period and policies follow them", () => {
      for (const task of resourcesOf(stack, "aws_ecs_task_definition")) {
        expect(task.runtime_platform).toEqual({
          operating_system_family: "LINUX",
          cpu_architecture: "ARM64",
        });
      }
      expect(resourcesOf(stack, "aws_ecs_service")[0]?.health_check_grace_period_seconds).toBe(120);
      const targets = resourcesOf(stack, "aws_appautoscaling_policy").map(
        (p) => (p.target_tracking_scaling_policy_configuration as { target_value: number }).target_value,
      );
      expect(targets).toEqual([70, 80, 800, 70, 80, 800]);
    });
  });

  describe("Fargate task sizes", () => {
    it.each([
      [256, 512, { cpu: 256, memoryMiB: 512 }],
      [256, 4096, { cpu: 512, memoryMiB: 4096 }],
      [1024, 9000, { cpu: 2048, memoryMiB: 9216 }],
      [4096, 31000, { cpu: 8192, memoryMiB: 32768 }],
      [16384, 122880, { cpu: 16384, memoryMiB: 122880 }],
    ])("When %i CPU units and %i MiB are needed, then the task size is %o", (cpu, memory, expected) => {
      expect(fargateTaskSize(cpu, memory)).toEqual(expected);
    });

    it("When more than Fargate offers is needed, then there is no size", () => {
      expect(fargateTaskSize(16385, 1024)).toBeUndefined();
      expect(fargateTaskSize(256, 122881)).toBeUndefined();
    });
  });

  describe("secret ARNs", () => {
    it("When a json-key suffix is given, then the secret ARN drops it", () => {
      expect(secretArnOf("o", "X", `${SECRET}:password::`)).toBe(SECRET);
      expect(secretArnOf("o", "X", SECRET)).toBe(SECRET);
    });

    it("When the secret comes from another resource with a json-key suffix, then the role reads that secret", () => {
      const stack = synthConstruct((scope) => {
        const secret = new SecretsmanagerSecret(scope, "Database", {
          name: "blueprint/dev/user-service/database",
        });
        new EcsServices(
          scope,
          "Compute",
          props({ services: [service({ secrets: { DATABASE_PASSWORD: `${secret.arn}:password::` } })] }),
        );
      });
      expect(containerOf(stack).secrets).toEqual([
        {
          name: "DATABASE_PASSWORD",
          valueFrom: `${ref("aws_secretsmanager_secret.Database.arn")}:password::`,
        },
      ]);
      expect(policyStatements(stack)).toContainEqual(
        expect.objectContaining({
          sid: "ReadSecrets",
          resources: [ref("aws_secretsmanager_secret.Database.arn")],
        }),
      );
    });
  });

  it("When synthesized twice, then the output is identical", () => {
    expect(JSON.stringify(synth())).toBe(JSON.stringify(synth()));
  });

  describe("validation", () => {
    const owner = "EcsServices blueprint-dev";
    const svc = `${owner} service user-service`;
    it.each<[string, Partial<EcsServicesProps>, string]>([
      [
        "an invalid cluster name",
        { clusterName: "blue print" },
        'EcsServices blue print: clusterName must be letters, digits, hyphens and underscores, got "blue print"',
      ],
      ["no services", { services: [] }, `${owner}: services must name at least one service`],
      [
        "one subnet",
        { privateSubnetIds: ["subnet-a"] },
        `${owner}: privateSubnetIds must span at least 2 AZs, got 1 subnet(s)`,
      ],
      [
        "no security group",
        { securityGroupIds: [] },
        `${owner}: securityGroupIds must name the services' security group`,
      ],
      [
        "a retention CloudWatch does not offer",
        { logRetentionDays: 10 },
        `${owner}: logRetentionDays must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653), got 10`,
      ],
      [
        "a CPU target of 95 %",
        { cpuTargetPercent: 95 },
        `${owner}: cpuTargetPercent must be from 10 to 90, got 95`,
      ],
      [
        "zero requests per target",
        { requestsPerTarget: 0 },
        `${owner}: requestsPerTarget must be at least 1, got 0`,
      ],
      [
        "a negative grace period",
        { healthCheckGracePeriodSeconds: -1 },
        `${owner}: healthCheckGracePeriodSeconds must be 0 or more, got -1`,
      ],
      [
        "an upper-case service name",
        { services: [service({ name: "User" })] },
        `${owner}: service name must be lower-case letters, digits and hyphens (at most 40, starting with a letter), got "User"`,
      ],
      [
        "a service twice",
        { services: [service(), service()] },
        `${owner}: service "user-service" is defined twice`,
      ],
      [
        "port 0",
        { services: [service({ containerPort: 0 })] },
        `${svc}: containerPort must be an integer from 1 to 65535, got 0`,
      ],
      [
        "replicas above max",
        { services: [service({ sizing: { ...sizing, replicas: 5 } })] },
        `${svc}: replicas must be between minReplicas and maxReplicas (2..4), got 5`,
      ],
      [
        "min above max",
        { services: [service({ sizing: { ...sizing, minReplicas: 5 } })] },
        `${svc}: maxReplicas must be an integer of at least minReplicas (5), got 4`,
      ],
      [
        "no minimum",
        { services: [service({ sizing: { ...sizing, minReplicas: 0 } })] },
        `${svc}: minReplicas must be an integer of at least 1, got 0`,
      ],
      [
        "a CPU limit below the request",
        { services: [service({ sizing: { ...sizing, cpuLimitMillicores: 100 } })] },
        `${svc}: cpuLimitMillicores must be at least cpuRequestMillicores (250 millicores), got 100`,
      ],
      [
        "a memory limit below the request",
        { services: [service({ sizing: { ...sizing, memoryLimitMiB: 128 } })] },
        `${svc}: memoryLimitMiB must be at least memoryRequestMiB (256 MiB), got 128`,
      ],
      [
        "no memory request",
        { services: [service({ sizing: { ...sizing, memoryRequestMiB: 0 } })] },
        `${svc}: memoryRequestMiB must be positive, got 0`,
      ],
      [
        "more CPU than Fargate offers",
        {
          services: [
            service({ sizing: { ...sizing, cpuRequestMillicores: 20000, cpuLimitMillicores: 20000 } }),
          ],
        },
        `${svc}: no Fargate task size holds cpuLimitMillicores 20000 (20480 CPU units) and memoryLimitMiB 512; Fargate allows at most 16384 CPU units and 122880 MiB, with memory ranges per CPU size; lower the limits`,
      ],
      [
        "a lower-case environment name",
        { services: [service({ environment: { log_level: "info" } })] },
        `${svc}: environment names must be upper-case letters, digits and underscores, got "log_level"`,
      ],
      [
        "a credential as plain environment",
        { services: [service({ environment: { DATABASE_PASSWORD: "hunter2" } })] },
        `${svc}: environment variable "DATABASE_PASSWORD" looks like a credential; pass it through secrets instead`,
      ],
      [
        "a name both secret and plain",
        { services: [service({ secrets: { DATABASE_USER: SECRET }, environment: { DATABASE_USER: "x" } })] },
        `${svc}: DATABASE_USER is both a secret and a plain environment variable; keep it in secrets only`,
      ],
      [
        "a secret that is not an ARN",
        { services: [service({ secrets: { DATABASE_PASSWORD: "hunter2" } })] },
        `${svc}: secret DATABASE_PASSWORD must be a Secrets Manager ARN, optionally followed by ":json-key::", got "hunter2"`,
      ],
      [
        "an invalid image tag",
        { services: [service({ initialImageTag: "-bad tag" })] },
        `${svc}: initialImageTag must be a Docker tag, got "-bad tag"`,
      ],
    ])("When given %s, then it fails with what is wrong and how to fix it", (_, overrides, message) => {
      expect(build(overrides)).toThrow(new Error(message));
    });
  });
});
