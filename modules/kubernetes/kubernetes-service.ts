import { DRAIN } from "@blueprint/service-kit/config";
import { SECRET_REFERENCES_VARIABLE } from "@blueprint/service-kit/secret-references";
import {
  DeploymentV1,
  type DeploymentV1SpecTemplateSpecContainer,
} from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import { secretArnOf } from "../ecs/fargate";
import { assertNodePort } from "../workload/limits";
import { ServiceConstruct } from "../workload/service-constructs";
import { CONTAINER_USER, sortedEnvironment, type WorkloadDefinition } from "../workload/workload";

/** One service in the namespace: image, size, identity, configuration and its fixed NodePort. */
export interface KubernetesServiceDefinition extends WorkloadDefinition {
  /** Fixed NodePort (30000-32767) the ALB target group (type `instance`) sends traffic to; same value as in EksCluster. */
  readonly nodePort: number;
  /** IAM role the pods assume through IRSA (trusting `system:serviceaccount:<namespace>:<name>`). */
  readonly iamRoleArn: string;
  /**
   * Environment variable name -> Secrets Manager reference (`<secret ARN>:<JSON key>::`, as ECS's
   * `valueFrom`). The pod gets the references in ENV_VALUE_FROM and the service reads the values at
   * start with its IRSA role, so no value passes through Terraform or a Kubernetes Secret.
   * @default no secrets
   */
  readonly secretReferences?: Readonly<Record<string, string>>;
}

export interface KubernetesServiceProps {
  readonly service: KubernetesServiceDefinition;
  /** Namespace name, resolved through the namespace resource so everything waits for it. */
  readonly namespace: string;
  /** CIDR of the VPC: NodePort traffic arrives from node IPs inside it. */
  readonly vpcCidr: string;
  /** Average CPU utilisation, in percent of the CPU request, that the autoscaler keeps. */
  readonly cpuTargetPercent: number;
  readonly memoryTargetPercent: number;
  /** Owner of the set in error messages, e.g. `KubernetesWorkloads blueprint`. */
  readonly owner: string;
}

/**
 * One service on Kubernetes: a ServiceAccount bound to its IAM role (which also reads its secrets), a hardened
 * Deployment with probes on `/health` and `/ready`, a NodePort Service for the ALB, a CPU
 * HorizontalPodAutoscaler, a PodDisruptionBudget and the NetworkPolicy admitting the VPC on its
 * port.
 */
export class KubernetesService extends ServiceConstruct {
  readonly serviceAccount: ServiceAccountV1;
  readonly deployment: DeploymentV1;
  readonly service: ServiceV1;
  readonly autoscaler: HorizontalPodAutoscalerV2;

  constructor(scope: Construct, props: KubernetesServiceProps) {
    const { service } = props;
    super(scope, {
      workload: service,
      setOwner: props.owner,
      secretsKey: "secretReferences",
      secretNames: Object.keys(service.secretReferences ?? {}),
    });
    assertNodePort(this.owner, service.nodePort);
    for (const [name, reference] of Object.entries(service.secretReferences ?? {})) {
      secretArnOf(this.owner, name, reference);
      // The service reads one JSON key per variable; a whole secret is never a variable's value.
      if (!/:[A-Za-z0-9_.-]+::$/.test(reference)) {
        throw new Error(
          `${this.owner}: secret ${name} must end with ":<json-key>::" (the key in the secret's JSON), got "${reference}"`,
        );
      }
    }
    if (service.environment && SECRET_REFERENCES_VARIABLE in service.environment) {
      throw new Error(
        `${this.owner}: environment must not set ${SECRET_REFERENCES_VARIABLE}; it is built from secretReferences`,
      );
    }

    const selector = { "app.kubernetes.io/name": service.name };
    const labels = { ...selector, "app.kubernetes.io/part-of": "blueprint" };
    const metadata = { name: service.name, namespace: props.namespace, labels };
    const { sizing } = service;

    this.serviceAccount = new ServiceAccountV1(this, "ServiceAccount", {
      metadata: { ...metadata, annotations: { "eks.amazonaws.com/role-arn": service.iamRoleArn } },
      // IRSA projects its own web identity token; the Kubernetes API token is not needed.
      automountServiceAccountToken: false,
    });
    this.deployment = new DeploymentV1(this, "Deployment", {
      metadata,
      // The pipeline waits for its own rollouts; an apply must not block on an image not pushed yet.
      waitForRollout: false,
      spec: {
        replicas: String(sizing.replicas),
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "0", maxSurge: "1" } },
        // A rotated secret reaches the pods at their next start: `kubectl rollout restart`.
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: this.serviceAccount.metadata.name,
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
            container: [this.container(service)],
            // The preStop sleep and the drain after it must fit before SIGKILL.
            terminationGracePeriodSeconds: DRAIN.gracePeriodSeconds,
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
    this.service = new ServiceV1(this, "Service", {
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
    this.autoscaler = new HorizontalPodAutoscalerV2(this, "Autoscaler", {
      metadata,
      spec: {
        minReplicas: sizing.minReplicas,
        maxReplicas: sizing.maxReplicas,
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
        metric: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: props.cpuTargetPercent },
            },
          },
          {
            type: "Resource",
            resource: {
              name: "memory",
              target: { type: "Utilization", averageUtilization: props.memoryTargetPercent },
            },
          },
        ],
      },
    });
    // maxUnavailable 1 rather than a fixed minAvailable: it stays right as the autoscaler changes
    // the replica count, and a node drain can always proceed one pod at a time, even at one replica.
    new PodDisruptionBudgetV1(this, "DisruptionBudget", {
      metadata,
      spec: { maxUnavailable: "1", selector: { matchLabels: selector } },
    });
    new NetworkPolicyV1(this, "AllowIngress", {
      metadata: { ...metadata, name: `${service.name}-ingress` },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress"],
        // NodePort traffic from the ALB is forwarded by kube-proxy from the receiving node's IP.
        ingress: [
          {
            from: [{ ipBlock: { cidr: props.vpcCidr } }],
            ports: [{ port: String(service.containerPort), protocol: "TCP" }],
          },
        ],
      },
    });
  }

  /** Plain variables plus ENV_VALUE_FROM, the secret references, when the service has secrets. */
  private environment(service: KubernetesServiceDefinition): Record<string, string> {
    const references = service.secretReferences ?? {};
    if (Object.keys(references).length === 0) return { ...service.environment };
    return { ...service.environment, [SECRET_REFERENCES_VARIABLE]: Fn.jsonencode(references) };
  }

  private container(service: KubernetesServiceDefinition): DeploymentV1SpecTemplateSpecContainer {
    const { sizing } = service;
    return {
      name: service.name,
      image: this.initialImage,
      imagePullPolicy: "Always",
      port: [{ name: "http", containerPort: service.containerPort, protocol: "TCP" }],
      env: sortedEnvironment(this.environment(service)),
      resources: {
        requests: { cpu: `${sizing.cpuRequestMillicores}m`, memory: `${sizing.memoryRequestMiB}Mi` },
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
      // A terminating pod leaves the Service's endpoints while it still serves: kube-proxy on every
      // node stops sending it new connections before SIGTERM closes its listener.
      lifecycle: { preStop: [{ exec: { command: ["sleep", String(DRAIN.delaySeconds)] } }] },
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
    };
  }
}
