import { DRAIN } from "@blueprint/service-kit/config";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import type { ServiceSizing } from "../../environments/types";
import { onlyResource, parse, resourcesOf, type SynthesizedStack, synthesizer } from "../testing/synth";
import {
  type KubernetesServiceDefinition,
  KubernetesWorkloads,
  type KubernetesWorkloadsProps,
} from "./kubernetes-workloads";

const sizing: ServiceSizing = {
  replicas: 5,
  minReplicas: 5,
  maxReplicas: 20,
  cpuRequestMillicores: 250,
  cpuLimitMillicores: 500,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
};

const DATABASE_SECRET =
  "arn:aws:secretsmanager:eu-west-1:333333333333:secret:blueprint/prod/user-service/database-AbCdEf";

function service(overrides: Partial<KubernetesServiceDefinition> = {}): KubernetesServiceDefinition {
  return {
    name: "user-service",
    containerPort: 8081,
    nodePort: 30081,
    repositoryUrl: "333333333333.dkr.ecr.eu-west-1.amazonaws.com/blueprint/user-service",
    sizing,
    iamRoleArn: "arn:aws:iam::333333333333:role/blueprint-prod-user-service",
    secretReferences: { DATABASE_PASSWORD: `${DATABASE_SECRET}:password::` },
    ...overrides,
  };
}

function props(overrides: Partial<KubernetesWorkloadsProps> = {}): KubernetesWorkloadsProps {
  return { vpcCidr: "10.30.0.0/16", services: [service()], ...overrides };
}

const synth = synthesizer(KubernetesWorkloads, "Workloads", props());

type PodSpec = {
  container: Record<string, unknown>[];
  security_context: Record<string, unknown>;
  [key: string]: unknown;
};

function podSpec(stack: SynthesizedStack, index = 0): PodSpec {
  const deployment = resourcesOf(stack, "kubernetes_deployment_v1")[index] as {
    spec: { template: { spec: PodSpec } };
  };
  return deployment.spec.template.spec;
}

function networkPolicy(stack: SynthesizedStack, name: string): Record<string, unknown> {
  const policy = resourcesOf(stack, "kubernetes_network_policy_v1").find(
    (p) => (p.metadata as { name: string }).name === name,
  );
  expect(policy, `network policy ${name}`).toBeDefined();
  return (policy as { spec: Record<string, unknown> }).spec;
}

describe("KubernetesWorkloads", () => {
  describe("with minimal props", () => {
    const stack = synth();
    const container = podSpec(stack).container[0] as Record<string, unknown>;

    it("When synthesized, then the namespace enforces the restricted Pod Security Standard", () => {
      expect(onlyResource(stack, "kubernetes_namespace_v1").metadata).toEqual({
        name: "blueprint",
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      });
    });

    it("When synthesized, then the service account is bound to the service's IAM role and mounts no API token", () => {
      expect(onlyResource(stack, "kubernetes_service_account_v1")).toMatchObject({
        metadata: {
          name: "user-service",
          annotations: {
            "eks.amazonaws.com/role-arn": "arn:aws:iam::333333333333:role/blueprint-prod-user-service",
          },
        },
        automount_service_account_token: false,
      });
      expect(podSpec(stack)).toMatchObject({ automount_service_account_token: false });
    });

    it("When synthesized, then the container gets secret references, not values, and no Kubernetes Secret exists", () => {
      expect(resourcesOf(stack, "kubernetes_secret_v1")).toEqual([]);
      expect(container.env_from).toBeUndefined();
      expect(container.env).toEqual([
        {
          name: "ENV_VALUE_FROM",
          value: `\${jsonencode({"DATABASE_PASSWORD" = "${DATABASE_SECRET}:password::"})}`,
        },
      ]);
    });

    it("When synthesized, then the pod runs non-root with a read-only root filesystem, no privilege escalation and no capabilities", () => {
      expect(podSpec(stack).security_context).toEqual({
        run_as_non_root: true,
        run_as_user: "10001",
        run_as_group: "10001",
        fs_group: "10001",
        seccomp_profile: { type: "RuntimeDefault" },
      });
      expect(container.security_context).toEqual({
        run_as_non_root: true,
        run_as_user: "10001",
        run_as_group: "10001",
        read_only_root_filesystem: true,
        allow_privilege_escalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"] },
        seccomp_profile: { type: "RuntimeDefault" },
      });
      expect(container.volume_mount).toEqual([{ name: "tmp", mount_path: "/tmp" }]);
      expect(podSpec(stack).volume).toEqual([{ name: "tmp", empty_dir: { size_limit: "64Mi" } }]);
    });

    it("When synthesized, then liveness probes /health and readiness probes /ready on the container port", () => {
      expect(container.port).toEqual([{ name: "http", container_port: 8081, protocol: "TCP" }]);
      expect(container.liveness_probe).toMatchObject({ http_get: { path: "/health", port: "http" } });
      expect(container.readiness_probe).toMatchObject({ http_get: { path: "/ready", port: "http" } });
    });

    it("When a pod terminates, then it sleeps in preStop for the drain delay and is killed only after the drain", () => {
      expect(container.lifecycle).toEqual({
        pre_stop: [{ exec: { command: ["sleep", String(DRAIN.delaySeconds)] } }],
      });
      expect(podSpec(stack).termination_grace_period_seconds).toBe(DRAIN.gracePeriodSeconds);
    });

    it("When synthesized, then requests and limits come from the sizing", () => {
      expect(container.resources).toEqual({
        requests: { cpu: "250m", memory: "256Mi" },
        limits: { cpu: "500m", memory: "512Mi" },
      });
    });

    it("When synthesized, then the Deployment rolls one extra pod at a time, never below the desired count, spread over zones", () => {
      const deployment = onlyResource(stack, "kubernetes_deployment_v1") as { spec: Record<string, unknown> };
      expect(deployment.spec).toMatchObject({
        replicas: "5",
        selector: { match_labels: { "app.kubernetes.io/name": "user-service" } },
        strategy: { type: "RollingUpdate", rolling_update: { max_unavailable: "0", max_surge: "1" } },
      });
      expect(podSpec(stack).topology_spread_constraint).toEqual([
        {
          max_skew: 1,
          topology_key: "topology.kubernetes.io/zone",
          when_unsatisfiable: "ScheduleAnyway",
          label_selector: [{ match_labels: { "app.kubernetes.io/name": "user-service" } }],
        },
      ]);
      expect(container).toMatchObject({
        image: "333333333333.dkr.ecr.eu-west-1.amazonaws.com/blueprint/user-service:bootstrap",
        image_pull_policy: "Always",
      });
    });

    it("When the autoscaler or the pipeline changes replicas or image, then Terraform leaves both alone and does not wait for rollouts", () => {
      expect(onlyResource(stack, "kubernetes_deployment_v1")).toMatchObject({
        wait_for_rollout: false,
        lifecycle: {
          ignore_changes: [
            "spec[0].replicas",
            "spec[0].template[0].spec[0].container[0].image",
            'spec[0].template[0].metadata[0].annotations["kubectl.kubernetes.io/restartedAt"]',
          ],
        },
      });
    });

    it("When synthesized, then the Service exposes the fixed NodePort for the ALB", () => {
      expect(onlyResource(stack, "kubernetes_service_v1").spec).toEqual({
        type: "NodePort",
        selector: { "app.kubernetes.io/name": "user-service" },
        external_traffic_policy: "Cluster",
        port: [{ name: "http", port: 8081, target_port: "http", node_port: 30081, protocol: "TCP" }],
      });
    });

    it("When synthesized, then the autoscaler keeps CPU at 70 % and memory at 80 % of the requests between min and max replicas", () => {
      expect(onlyResource(stack, "kubernetes_horizontal_pod_autoscaler_v2").spec).toEqual({
        min_replicas: 5,
        max_replicas: 20,
        scale_target_ref: { api_version: "apps/v1", kind: "Deployment", name: expect.any(String) },
        metric: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", average_utilization: 70 } },
          },
          {
            type: "Resource",
            resource: { name: "memory", target: { type: "Utilization", average_utilization: 80 } },
          },
        ],
      });
    });

    it("When nodes drain, then at most one pod of the service is evicted at a time", () => {
      expect(onlyResource(stack, "kubernetes_pod_disruption_budget_v1").spec).toEqual({
        max_unavailable: "1",
        selector: { match_labels: { "app.kubernetes.io/name": "user-service" } },
      });
    });

    it("When synthesized, then all ingress and egress in the namespace is denied unless a policy allows it", () => {
      expect(networkPolicy(stack, "default-deny")).toEqual({
        pod_selector: {},
        policy_types: ["Ingress", "Egress"],
      });
    });

    it("When synthesized, then the service admits the VPC (node IPs carrying NodePort traffic) on its container port only", () => {
      expect(networkPolicy(stack, "user-service-ingress")).toEqual({
        pod_selector: { match_labels: { "app.kubernetes.io/name": "user-service" } },
        policy_types: ["Ingress"],
        ingress: [
          { from: [{ ip_block: { cidr: "10.30.0.0/16" } }], ports: [{ port: "8081", protocol: "TCP" }] },
        ],
      });
    });

    it("When synthesized, then pods reach DNS, the VPC on 443, 5432, 9098 and SMTP, and outside only on 443 and SMTP", () => {
      expect(networkPolicy(stack, "allow-egress")).toEqual({
        pod_selector: {},
        policy_types: ["Egress"],
        egress: [
          {
            to: [
              {
                namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "kube-system" } },
                pod_selector: { match_labels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { port: "53", protocol: "UDP" },
              { port: "53", protocol: "TCP" },
            ],
          },
          {
            to: [{ ip_block: { cidr: "10.30.0.0/16" } }],
            ports: ["443", "5432", "9098", "587"].map((port) => ({ port, protocol: "TCP" })),
          },
          {
            to: [{ ip_block: { cidr: "0.0.0.0/0" } }],
            ports: ["443", "587"].map((port) => ({ port, protocol: "TCP" })),
          },
        ],
      });
    });

    it("When synthesized twice, then the output is identical", () => {
      expect(JSON.stringify(synth())).toBe(JSON.stringify(stack));
    });
  });

  describe("with every knob set", () => {
    const stack = synth({
      namespace: "platform",
      externalEgressCidrs: [],
      smtpPort: 2525,
      cpuTargetPercent: 75,
      services: [
        service({
          environment: { LOG_LEVEL: "info", KAFKA_CLIENT_ID: "user-service" },
          initialImageTag: "v1",
        }),
        service({ name: "order-service", containerPort: 8082, nodePort: 30082 }),
      ],
    });

    it("When a namespace is named, then every object lives in it", () => {
      expect(onlyResource(stack, "kubernetes_namespace_v1")).toMatchObject({
        metadata: { name: "platform" },
      });
    });

    it("When plain environment is given, then it is set on the container with the secret references, sorted", () => {
      const container = podSpec(stack, 1).container[0] as Record<string, unknown>;
      expect((container.env as Array<{ name: string }>).map((e) => e.name)).toEqual([
        "ENV_VALUE_FROM",
        "KAFKA_CLIENT_ID",
        "LOG_LEVEL",
      ]);
      expect(container.env).toEqual(
        expect.arrayContaining([
          { name: "KAFKA_CLIENT_ID", value: "user-service" },
          { name: "LOG_LEVEL", value: "info" },
        ]),
      );
      expect(container.image).toMatch(/:v1$/);
    });

    it("When no external CIDRs are allowed, then egress stays inside the VPC, on the given SMTP port", () => {
      const egress = networkPolicy(stack, "allow-egress").egress as { ports: { port: string }[] }[];
      expect(egress).toHaveLength(2);
      expect(egress[1]?.ports.map((p) => p.port)).toEqual(["443", "5432", "9098", "2525"]);
    });

    it("When two services and a CPU target are given, then each gets its own objects and autoscaler target", () => {
      expect(
        resourcesOf(stack, "kubernetes_service_v1").map(
          (s) => (s.spec as { port: { node_port: number }[] }).port[0]?.node_port,
        ),
      ).toEqual([30082, 30081]);
      for (const hpa of resourcesOf(stack, "kubernetes_horizontal_pod_autoscaler_v2")) {
        expect(hpa.spec).toMatchObject({
          metric: [{ resource: { target: { average_utilization: 75 } } }, {}],
        });
      }
      expect(resourcesOf(stack, "kubernetes_network_policy_v1")).toHaveLength(4);
    });
  });

  it("When the stack configures the Kubernetes provider, then it synthesizes with cdktf's validations on", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "workloads");
    new KubernetesProvider(stack, "Kubernetes", { host: "https://example.eks.amazonaws.com" });
    new KubernetesWorkloads(stack, "Workloads", props());
    const synthesized = parse(Testing.synth(stack, true));
    expect(synthesized.provider?.kubernetes).toEqual([{ host: "https://example.eks.amazonaws.com" }]);
  });

  describe("validation", () => {
    const owner = "KubernetesWorkloads blueprint";
    const svc = `${owner} service user-service`;
    it.each<[string, Partial<KubernetesWorkloadsProps>, string]>([
      [
        "an invalid namespace",
        { namespace: "Blueprint" },
        'KubernetesWorkloads Blueprint: namespace must be a DNS label (lower-case letters, digits and hyphens, at most 63), got "Blueprint"',
      ],
      ["no services", { services: [] }, `${owner}: services must name at least one service`],
      [
        "a VPC CIDR that is not one",
        { vpcCidr: "10.30.0.0" },
        `${owner}: vpcCidr must hold IPv4 CIDRs such as 10.30.0.0/16, got "10.30.0.0"`,
      ],
      [
        "an external CIDR that is not one",
        { externalEgressCidrs: ["anywhere"] },
        `${owner}: externalEgressCidrs must hold IPv4 CIDRs such as 10.30.0.0/16, got "anywhere"`,
      ],
      ["SMTP port 0", { smtpPort: 0 }, `${owner}: smtpPort must be an integer from 1 to 65535, got 0`],
      [
        "a CPU target of 5 %",
        { cpuTargetPercent: 5 },
        `${owner}: cpuTargetPercent must be from 10 to 90, got 5`,
      ],
      [
        "an invalid service name",
        { services: [service({ name: "user_service" })] },
        `${owner}: service name must be lower-case letters, digits and hyphens (at most 40, starting with a letter), got "user_service"`,
      ],
      [
        "a service twice",
        { services: [service(), service({ nodePort: 30082 })] },
        `${owner}: service "user-service" is defined twice`,
      ],
      [
        "a NodePort twice",
        { services: [service(), service({ name: "order-service" })] },
        `${owner}: nodePort 30081 is used by two services`,
      ],
      [
        "a container port out of range",
        { services: [service({ containerPort: 70000 })] },
        `${svc}: containerPort must be an integer from 1 to 65535, got 70000`,
      ],
      [
        "a NodePort outside the range",
        { services: [service({ nodePort: 8081 })] },
        `${svc}: nodePort must be an integer from 30000 to 32767, got 8081`,
      ],
      [
        "replicas below min",
        { services: [service({ sizing: { ...sizing, replicas: 1 } })] },
        `${svc}: replicas must be between minReplicas and maxReplicas (5..20), got 1`,
      ],
      [
        "an invalid secret key",
        {
          services: [service({ secretReferences: { "database-password": `${DATABASE_SECRET}:password::` } })],
        },
        `${svc}: secretReferences names must be upper-case letters, digits and underscores, got "database-password"`,
      ],
      [
        "a credential as plain environment",
        { services: [service({ environment: { SMTP_PASSWORD: "x" } })] },
        `${svc}: environment variable "SMTP_PASSWORD" looks like a credential; pass it through secrets instead`,
      ],
      [
        "a name both secret and plain",
        {
          services: [
            service({
              secretReferences: { DATABASE_USER: `${DATABASE_SECRET}:username::` },
              environment: { DATABASE_USER: "y" },
            }),
          ],
        },
        `${svc}: DATABASE_USER is both a secret and a plain environment variable; keep it in secretReferences only`,
      ],
      [
        "a secret value where a reference belongs",
        { services: [service({ secretReferences: { DATABASE_PASSWORD: "hunter2" } })] },
        `${svc}: secret DATABASE_PASSWORD must be a Secrets Manager ARN, optionally followed by ":json-key::", got "hunter2"`,
      ],
      [
        "a reference to a whole secret",
        { services: [service({ secretReferences: { DATABASE_PASSWORD: DATABASE_SECRET } })] },
        `${svc}: secret DATABASE_PASSWORD must end with ":<json-key>::" (the key in the secret's JSON), got "${DATABASE_SECRET}"`,
      ],
      [
        "an invalid image tag",
        { services: [service({ initialImageTag: "a b" })] },
        `${svc}: initialImageTag must be a Docker tag, got "a b"`,
      ],
    ])("When given %s, then it fails with what is wrong and how to fix it", (_, overrides, message) => {
      expect(() => synth(overrides)).toThrow(new Error(message));
    });
  });
});
