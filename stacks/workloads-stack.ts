import { SECRET_KINDS, secretName, serviceEntries } from "@blueprint/service-kit/catalog";
import { DataAwsSecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { KubernetesWorkloads } from "../modules/kubernetes/kubernetes-workloads";
import { EksScraperRbac } from "../modules/observability/eks-metrics-scraper";
import {
  type ComputeLayers,
  type ComputeStack,
  serviceEnvironment,
  WORKLOAD_NAMESPACE,
} from "./compute-stack";
import { EnvironmentStack } from "./environment-stack";
import { nodePortOf } from "./service-routing";

/**
 * EKS only: the Kubernetes objects of the services, applied with the Kubernetes provider against the
 * cluster of the compute layer. Kept apart so a bad rollout never shares a plan with the cluster.
 */
export class WorkloadsStack extends EnvironmentStack {
  constructor(scope: Construct, env: EnvironmentConfig, compute: ComputeStack, layers: ComputeLayers) {
    super(scope, { env, layer: "workloads" });
    const eks = compute.eks;
    if (!eks)
      throw new Error(
        `WorkloadsStack ${env.name}: compute.kind is "${env.compute.kind}"; workloads need an EKS cluster`,
      );
    new KubernetesProvider(this, "Kubernetes", {
      host: eks.endpoint,
      clusterCaCertificate: Fn.base64decode(eks.certificateAuthorityData),
      // A short-lived token from the caller's AWS identity; nothing is stored in state.
      exec: [
        {
          apiVersion: "client.authentication.k8s.io/v1beta1",
          command: "aws",
          args: ["eks", "get-token", "--cluster-name", `blueprint-${env.name}`, "--region", env.region],
        },
      ],
    });
    const secretJson = (secret: string, id: string) =>
      new DataAwsSecretsmanagerSecretVersion(this, id, {
        secretId: layers.data.secrets.secrets[secret]?.arn as string,
      }).secretString;
    const workloads = new KubernetesWorkloads(this, "Workloads", {
      namespace: WORKLOAD_NAMESPACE,
      vpcCidr: env.network.vpcCidr,
      services: serviceEntries().map((s) => {
        const secretData = Object.fromEntries(
          s.secrets.flatMap((kind) => {
            const json = Fn.jsondecode(secretJson(secretName(s.name, kind), `Secret-${s.name}-${kind}`));
            return Object.entries(SECRET_KINDS[kind].variables).map(([variable, key]) => [
              variable,
              Fn.lookup(json, key, ""),
            ]);
          }),
        );
        return {
          name: s.name,
          containerPort: s.port,
          nodePort: nodePortOf(s.port),
          repositoryUrl: compute.registry.repositories[s.name]?.repositoryUrl as string,
          sizing: env.services[s.name],
          iamRoleArn: compute.serviceRoles[s.name].roleArn,
          secretData,
          environment: serviceEnvironment(s.name, s.port, layers, env.region),
        };
      }),
    });
    // Lets the managed Prometheus scraper read pod endpoints in the namespace.
    new EksScraperRbac(this, "ScraperRbac", { namespace: WORKLOAD_NAMESPACE });
    void workloads;
  }
}
