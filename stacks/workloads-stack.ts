import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import { ClusterAutoscaler } from "../modules/eks/cluster-autoscaler";
import type { EksCluster } from "../modules/eks/eks-cluster";
import { KubernetesWorkloads } from "../modules/kubernetes/kubernetes-workloads";
import { EksScraperRbac } from "../modules/observability/eks-metrics-scraper";
import { EksTraceCollector } from "../modules/observability/eks-trace-collector";
import type { ComputeLayerProps } from "./compute-stack";
import { EnvironmentStack } from "./environment-stack";
import { nodePortOf, REDRIVE_ACCOUNT, WORKLOAD_NAMESPACE } from "./service-wiring";

/**
 * EKS only: the Kubernetes objects of the services, applied with the Kubernetes provider against the
 * cluster of the compute layer. Kept apart so a bad rollout never shares a plan with the cluster.
 */
export class WorkloadsStack extends EnvironmentStack {
  readonly workloads: KubernetesWorkloads;

  constructor(scope: Construct, props: ComputeLayerProps) {
    super(scope, { env: props.env, layer: "workloads" });
    const { env, compute } = props;
    const eks = compute.eks;
    if (!eks)
      throw new Error(
        `WorkloadsStack ${env.name}: compute.kind is "${env.compute.kind}"; workloads need an EKS cluster`,
      );
    this.kubernetesProvider(eks);
    const { wiring } = compute;
    this.workloads = new KubernetesWorkloads(this, "Workloads", {
      namespace: WORKLOAD_NAMESPACE,
      vpcCidr: env.network.vpcCidr,
      cpuTargetPercent: env.autoscaling.cpuTargetPercent,
      memoryTargetPercent: env.autoscaling.memoryTargetPercent,
      services: wiring.services().map((s) => ({
        name: s.name,
        containerPort: s.port,
        nodePort: nodePortOf(s.port),
        repositoryUrl: compute.registry.repository(s.name).repositoryUrl,
        sizing: wiring.sizing(s),
        iamRoleArn: compute.serviceRole(s.name).roleArn,
        secretReferences: wiring.secretReferences(s, compute.secret),
        environment: wiring.environment(s, compute.endpoints()),
      })),
    });
    const settings = env.compute.eks;
    if (settings?.nodeAutoscaler === "cluster-autoscaler" && eks.clusterAutoscalerRoleArn) {
      new ClusterAutoscaler(this, "ClusterAutoscaler", {
        clusterName: eks.clusterName,
        region: env.region,
        kubernetesVersion: settings.kubernetesVersion,
        roleArn: eks.clusterAutoscalerRoleArn,
      });
    }
    // On-call runs `redrive dlt` in a pod of the notification-service image under this account.
    new ServiceAccountV1(this, "RedriveServiceAccount", {
      metadata: {
        name: REDRIVE_ACCOUNT,
        namespace: WORKLOAD_NAMESPACE,
        annotations: { "eks.amazonaws.com/role-arn": compute.redriveRole.roleArn },
      },
      automountServiceAccountToken: false,
    });
    if (compute.traceCollectorRole) {
      new EksTraceCollector(this, "TraceCollector", {
        namespace: this.workloads.namespaceName,
        region: env.region,
        vpcCidr: env.network.vpcCidr,
        roleArn: compute.traceCollectorRole.role.arn,
      });
    }
    // Lets the managed Prometheus scraper read pod endpoints in the namespace.
    new EksScraperRbac(this, "ScraperRbac", { namespace: WORKLOAD_NAMESPACE });
  }

  private kubernetesProvider(eks: EksCluster): void {
    new KubernetesProvider(this, "Kubernetes", {
      host: eks.endpoint,
      clusterCaCertificate: Fn.base64decode(eks.certificateAuthorityData),
      // A short-lived token from the caller's AWS identity; nothing is stored in state.
      exec: [
        {
          apiVersion: "client.authentication.k8s.io/v1beta1",
          command: "aws",
          args: ["eks", "get-token", "--cluster-name", eks.clusterName, "--region", this.env.region],
        },
      ],
    });
  }
}
