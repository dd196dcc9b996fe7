import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import {
  NetworkPolicyV1,
  type NetworkPolicyV1SpecEgress,
} from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import type { ServiceSizing } from "../../environments/types";
import {
  assertEnvironmentNames,
  assertNoSecretLikeEnvironment,
  assertPort,
  assertServiceName,
  assertSizing,
  pascalCase,
} from "../ecs/compute-validation";

/** UID and GID the containers run as; the images create the user and own nothing else. */
export const CONTAINER_USER = 10001;

/** Ports the pods reach inside the VPC besides the SMTP port: AWS interface endpoints, PostgreSQL, MSK with IAM auth. */
export const VPC_EGRESS_PORTS = [443, 5432, 9098] as const;

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12]\d|3[0-2])$/;

/** One service in the namespace: image, size, identity, configuration and its fixed NodePort. */
export interface KubernetesServiceDefinition {
  /** Service name, e.g. `user-service`; names the Deployment, Service, ServiceAccount, Secret, HPA and PDB. */
  readonly name: string;
  /** Port the container listens on; probes, the Service and the ingress policy target it. */
  readonly containerPort: number;
  /** Fixed NodePort (30000-32767) the ALB target group (type `instance`) sends traffic to; same value as in EksCluster. */
  readonly nodePort: number;
  /** ECR repository URL without a tag. */
  readonly repositoryUrl: string;
  /**
   * Image tag of the first rollout. The delivery pipeline sets the image of every release
   * afterwards, so Terraform never rolls an image back.
   * @default "bootstrap"
   */
  readonly initialImageTag?: string;
  /** Replicas, autoscaling range, CPU and memory requests and limits. */
  readonly sizing: ServiceSizing;
  /** IAM role the pods assume through IRSA (trusting `system:serviceaccount:<namespace>:<name>`). */
  readonly iamRoleArn: string;
  /**
   * Environment variable name -> secret value, stored in the service's Secret and injected with
   * envFrom. Feed it from Secrets Manager (a data source), never from literals in code.
   */
  readonly secretData: Readonly<Record<string, string>>;
  /**
   * Plain, non-secret environment variables. Names that look like credentials are rejected.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface KubernetesWorkloadsProps {
  /**
   * Namespace holding every service, enforcing the `restricted` Pod Security Standard.
   * @default "blueprint"
   */
  readonly namespace?: string;
  /** The services to run; at least one. */
  readonly services: readonly KubernetesServiceDefinition[];
  /**
   * CIDR of the VPC. NodePort traffic arrives from node IPs inside it, so the services admit it on
   * their container port; the pods may reach it on 443 (interface endpoints), 5432, 9098 and the SMTP port.
   */
  readonly vpcCidr: string;
  /**
   * CIDRs outside the VPC the pods may reach on 443 and the SMTP port: AWS APIs without an interface
   * endpoint and the SMTP relay, through NAT. Empty keeps the pods inside the VPC.
   * @default ["0.0.0.0/0"]
   */
  readonly externalEgressCidrs?: readonly string[];
  /**
   * Port of the SMTP relay the notification service submits mail to.
   * @default 587
   */
  readonly smtpPort?: number;
  /**
   * Average CPU utilisation, in percent of the CPU request, that each HorizontalPodAutoscaler keeps.
   * @default 60
   */
  readonly cpuTargetPercent?: number;
}

/**
 * The services on EKS: a namespace under the `restricted` Pod Security Standard, default-deny
 * NetworkPolicies with explicit ingress (from the VPC on the container port) and egress (DNS, the
 * VPC's databases, brokers and endpoints, HTTPS and SMTP out), and per service a ServiceAccount
 * bound to its IAM role, a Secret, a hardened Deployment with probes on `/health` and `/ready`, a
 * NodePort Service for the ALB, a CPU HorizontalPodAutoscaler and a PodDisruptionBudget.
 * The stack configures the Kubernetes provider.
 */
export class KubernetesWorkloads extends Construct {
  readonly namespace: NamespaceV1;
  /** Name of the namespace, resolved through the namespace resource so everything waits for it. */
  readonly namespaceName: string;
  readonly deployments: Readonly<Record<string, DeploymentV1>>;
  readonly services: Readonly<Record<string, ServiceV1>>;
  readonly serviceAccounts: Readonly<Record<string, ServiceAccountV1>>;
  readonly secrets: Readonly<Record<string, SecretV1>>;
  readonly autoscalers: Readonly<Record<string, HorizontalPodAutoscalerV2>>;

  constructor(scope: Construct, id: string, props: KubernetesWorkloadsProps) {
    super(scope, id);
    const namespace = props.namespace ?? "blueprint";
    const externalEgressCidrs = props.externalEgressCidrs ?? ["0.0.0.0/0"];
    const smtpPort = props.smtpPort ?? 587;
    const cpuTargetPercent = props.cpuTargetPercent ?? 60;

    const owner = `KubernetesWorkloads ${namespace}`;
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace)) {
      throw new Error(
        `${owner}: namespace must be a DNS label (lower-case letters, digits and hyphens, at most 63), got "${namespace}"`,
      );
    }
    if (props.services.length === 0) throw new Error(`${owner}: services must name at least one service`);
    for (const [key, cidrs] of [
      ["vpcCidr", [props.vpcCidr]],
      ["externalEgressCidrs", externalEgressCidrs],
    ] as const) {
      const invalid = cidrs.find((c) => !Token.isUnresolved(c) && !IPV4_CIDR.test(c));
      if (invalid !== undefined)
        throw new Error(`${owner}: ${key} must hold IPv4 CIDRs such as 10.30.0.0/16, got "${invalid}"`);
    }
    assertPort(owner, "smtpPort", smtpPort);
    if (!(cpuTargetPercent >= 10 && cpuTargetPercent <= 90)) {
      throw new Error(`${owner}: cpuTargetPercent must be from 10 to 90, got ${cpuTargetPercent}`);
    }
    const names = new Set<string>();
    const nodePorts = new Set<number>();
    for (const service of props.services) {
      assertServiceName(owner, service.name);
      if (names.has(service.name)) throw new Error(`${owner}: service "${service.name}" is defined twice`);
      if (nodePorts.has(service.nodePort))
        throw new Error(`${owner}: nodePort ${service.nodePort} is used by two services`);
      names.add(service.name);
      nodePorts.add(service.nodePort);
    }

    this.namespace = new NamespaceV1(this, "Namespace", {
      metadata: {
        name: namespace,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
    this.namespaceName = this.namespace.metadata.name;

    new NetworkPolicyV1(this, "DefaultDeny", {
      metadata: { name: "default-deny", namespace: this.namespaceName },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    const tcp = (ports: readonly number[]) => ports.map((port) => ({ port: String(port), protocol: "TCP" }));
    const egress: NetworkPolicyV1SpecEgress[] = [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { port: "53", protocol: "UDP" },
          { port: "53", protocol: "TCP" },
        ],
      },
      { to: [{ ipBlock: { cidr: props.vpcCidr } }], ports: tcp([...VPC_EGRESS_PORTS, smtpPort]) },
    ];
    if (externalEgressCidrs.length > 0) {
      egress.push({
        to: externalEgressCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: tcp([443, smtpPort]),
      });
    }
    new NetworkPolicyV1(this, "AllowEgress", {
      metadata: { name: "allow-egress", namespace: this.namespaceName },
      spec: { podSelector: {}, policyTypes: ["Egress"], egress },
    });

    const deployments: Record<string, DeploymentV1> = {};
    const services: Record<string, ServiceV1> = {};
    const serviceAccounts: Record<string, ServiceAccountV1> = {};
    const secrets: Record<string, SecretV1> = {};
    const autoscalers: Record<string, HorizontalPodAutoscalerV2> = {};

    for (const service of props.services) {
      const serviceOwner = `${owner} service ${service.name}`;
      const initialImageTag = service.initialImageTag ?? "bootstrap";
      const environment = service.environment ?? {};
      assertPort(serviceOwner, "containerPort", service.containerPort);
      assertPort(serviceOwner, "nodePort", service.nodePort, 30000, 32767);
      assertSizing(serviceOwner, service.sizing);
      assertEnvironmentNames(serviceOwner, "secretData", Object.keys(service.secretData));
      assertEnvironmentNames(serviceOwner, "environment", Object.keys(environment));
      assertNoSecretLikeEnvironment(serviceOwner, Object.keys(environment));
      const both = Object.keys(environment).find((name) => name in service.secretData);
      if (both !== undefined) {
        throw new Error(
          `${serviceOwner}: ${both} is both secret data and a plain environment variable; keep it in secretData only`,
        );
      }
      if (
        !Token.isUnresolved(initialImageTag) &&
        !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(initialImageTag)
      ) {
        throw new Error(`${serviceOwner}: initialImageTag must be a Docker tag, got "${initialImageTag}"`);
      }

      const scope = new Construct(this, pascalCase(service.name));
      const labels = { "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": "blueprint" };
      const selector = { "app.kubernetes.io/name": service.name };
      const metadata = { name: service.name, namespace: this.namespaceName, labels };
      const { sizing } = service;

      const serviceAccount = new ServiceAccountV1(scope, "ServiceAccount", {
        metadata: { ...metadata, annotations: { "eks.amazonaws.com/role-arn": service.iamRoleArn } },
        // IRSA projects its own web identity token; the Kubernetes API token is not needed.
        automountServiceAccountToken: false,
      });
      const secret = new SecretV1(scope, "Secret", {
        metadata,
        type: "Opaque",
        data: { ...service.secretData },
      });

      const deployment = new DeploymentV1(scope, "Deployment", {
        metadata,
        // The pipeline waits for its own rollouts; an apply must not block on an image not pushed yet.
        waitForRollout: false,
        spec: {
          replicas: String(sizing.replicas),
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "0", maxSurge: "1" } },
          template: {
            metadata: {
              labels,
              // Changed secret values (a rotated password) roll the pods on the next apply.
              annotations: { "checksum/secret": Fn.sha256(Fn.jsonencode(secret.data)) },
            },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: String(CONTAINER_USER),
                runAsGroup: String(CONTAINER_USER),
                fsGroup: String(CONTAINER_USER),
                seccompProfile: { type: "RuntimeDefault" },
              },
              topologySpreadConstraint: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  // Spread when zones allow it, but never leave a pod pending because one zone is full.
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: [{ matchLabels: selector }],
                },
              ],
              container: [
                {
                  name: service.name,
                  image: `${service.repositoryUrl}:${initialImageTag}`,
                  imagePullPolicy: "Always",
                  port: [{ name: "http", containerPort: service.containerPort, protocol: "TCP" }],
                  envFrom: [{ secretRef: { name: secret.metadata.name } }],
                  env: Object.keys(environment)
                    .sort()
                    .map((name) => ({ name, value: environment[name] })),
                  resources: {
                    requests: {
                      cpu: `${sizing.cpuRequestMillicores}m`,
                      memory: `${sizing.memoryRequestMiB}Mi`,
                    },
                    limits: { cpu: `${sizing.cpuLimitMillicores}m`, memory: `${sizing.memoryLimitMiB}Mi` },
                  },
                  livenessProbe: {
                    httpGet: { path: "/health", port: "http" },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    timeoutSeconds: 2,
                    failureThreshold: 3,
                  },
                  readinessProbe: {
                    httpGet: { path: "/ready", port: "http" },
                    periodSeconds: 5,
                    timeoutSeconds: 2,
                    failureThreshold: 3,
                  },
                  securityContext: {
                    runAsNonRoot: true,
                    runAsUser: String(CONTAINER_USER),
                    runAsGroup: String(CONTAINER_USER),
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  volumeMount: [{ name: "tmp", mountPath: "/tmp" }],
                },
              ],
              // The root filesystem is read-only; /tmp is the one writable path.
              volume: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
            },
          },
        },
        // The HorizontalPodAutoscaler owns the replica count and the delivery pipeline the image
        // (and `kubectl rollout restart` its annotation); Terraform must not reset them on every apply.
        lifecycle: {
          ignoreChanges: [
            "spec[0].replicas",
            "spec[0].template[0].spec[0].container[0].image",
            'spec[0].template[0].metadata[0].annotations["kubectl.kubernetes.io/restartedAt"]',
          ],
        },
      });

      const kubernetesService = new ServiceV1(scope, "Service", {
        metadata,
        spec: {
          type: "NodePort",
          selector,
          // Every node forwards to a ready pod, so the ALB may send to any node of the Auto Scaling group.
          externalTrafficPolicy: "Cluster",
          port: [
            {
              name: "http",
              port: service.containerPort,
              targetPort: "http",
              nodePort: service.nodePort,
              protocol: "TCP",
            },
          ],
        },
      });

      const autoscaler = new HorizontalPodAutoscalerV2(scope, "Autoscaler", {
        metadata,
        spec: {
          minReplicas: sizing.minReplicas,
          maxReplicas: sizing.maxReplicas,
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
          metric: [
            {
              type: "Resource",
              resource: {
                name: "cpu",
                target: { type: "Utilization", averageUtilization: cpuTargetPercent },
              },
            },
          ],
        },
      });

      // maxUnavailable 1 rather than a fixed minAvailable: it stays right as the autoscaler changes
      // the replica count, and a node drain can always proceed one pod at a time, even at one replica.
      new PodDisruptionBudgetV1(scope, "DisruptionBudget", {
        metadata,
        spec: { maxUnavailable: "1", selector: { matchLabels: selector } },
      });

      new NetworkPolicyV1(scope, "AllowIngress", {
        metadata: { ...metadata, name: `${service.name}-ingress` },
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          // NodePort traffic from the ALB is forwarded by kube-proxy from the receiving node's IP.
          ingress: [{ from: [{ ipBlock: { cidr: props.vpcCidr } }], ports: tcp([service.containerPort]) }],
        },
      });

      deployments[service.name] = deployment;
      services[service.name] = kubernetesService;
      serviceAccounts[service.name] = serviceAccount;
      secrets[service.name] = secret;
      autoscalers[service.name] = autoscaler;
    }

    this.deployments = deployments;
    this.services = services;
    this.serviceAccounts = serviceAccounts;
    this.secrets = secrets;
    this.autoscalers = autoscalers;
  }
}
