import { DRAIN } from "@blueprint/service-kit/config";
import {
  DeploymentV1,
  type DeploymentV1SpecTemplateSpecContainer,
} from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
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
   * Environment variable name -> secret value, stored in the service's Secret and injected with
   * envFrom. Feed it from Secrets Manager (a data source), never from literals in code.
   */
  readonly secretData: Readonly<Record<string, string>>;
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
 * One service on Kubernetes: a ServiceAccount bound to its IAM role, a Secret, a hardened
 * Deployment with probes on `/health` and `/ready`, a NodePort Service for the ALB, a CPU
 * HorizontalPodAutoscaler, a PodDisruptionBudget and the NetworkPolicy admitting the VPC on its
 * port.
 */
export class KubernetesService extends ServiceConstruct {
  readonly serviceAccount: ServiceAccountV1;
  readonly secret: SecretV1;
  readonly deployment: DeploymentV1;
  readonly service: ServiceV1;
  readonly autoscaler: HorizontalPodAutoscalerV2;

  constructor(scope: Construct, props: KubernetesServiceProps) {
    const { service } = props;
    super(scope, {
      workload: service,
      setOwner: props.owner,
      secretsKey: "secretData",
      secretNames: Object.keys(service.secretData),
    });
    assertNodePort(this.owner, service.nodePort);

    const selector = { "app.kubernetes.io/name": service.name };
    const labels = { ...selector, "app.kubernetes.io/part-of": "blueprint" };
    const metadata = { name: service.name, namespace: props.namespace, labels };
    const { sizing } = service;

    this.serviceAccount = new ServiceAccountV1(this, "ServiceAccount", {
      metadata: { ...metadata, annotations: { "eks.amazonaws.com/role-arn": service.iamRoleArn } },
      // IRSA projects its own web identity token; the Kubernetes API token is not needed.
      automountServiceAccountToken: false,
    });
    this.secret = new SecretV1(this, "Secret", { metadata, type: "Opaque", data: { ...service.secretData } });
    this.deployment = new DeploymentV1(this, "Deployment", {
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
            annotations: { "checksum/secret": Fn.sha256(Fn.jsonencode(this.secret.data)) },
          },
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

  private container(service: KubernetesServiceDefinition): DeploymentV1SpecTemplateSpecContainer {
    const { sizing } = service;
    return {
      name: service.name,
      image: this.initialImage,
      imagePullPolicy: "Always",
      port: [{ name: "http", containerPort: service.containerPort, protocol: "TCP" }],
      envFrom: [{ secretRef: { name: this.secret.metadata.name } }],
      env: sortedEnvironment(service.environment),
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
