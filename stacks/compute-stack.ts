import {
  CATALOG,
  SECRET_KINDS,
  type SecretKind,
  type ServiceName,
  secretName,
  serviceEntries,
  serviceEntry,
  writableTopics,
} from "@blueprint/service-kit/catalog";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { EcsServices } from "../modules/ecs/ecs-services";
import { EksCluster } from "../modules/eks/eks-cluster";
import { GithubDeployRole } from "../modules/iam/github-deploy-role";
import { ServiceRole, type ServiceRoleTrust } from "../modules/iam/service-role";
import { EncryptionKey } from "../modules/kms/encryption-key";
import { Registry } from "../modules/registry/registry";
import type { DataStack } from "./data-stack";
import type { EdgeStack } from "./edge-stack";
import { EnvironmentStack } from "./environment-stack";
import type { MessagingStack } from "./messaging-stack";
import type { NetworkStack } from "./network-stack";
import { nodePortOf } from "./service-routing";

/** Kubernetes namespace of the services on EKS. */
export const WORKLOAD_NAMESPACE = "blueprint";

export interface ComputeLayers {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly messaging: MessagingStack;
  readonly edge: EdgeStack;
}

/**
 * Compute layer: image repositories, one least-privilege role per service, the service pipeline's
 * deploy role, and the services on ECS Fargate or an EKS cluster, as the environment chooses.
 */
export class ComputeStack extends EnvironmentStack {
  readonly registry: Registry;
  readonly serviceRoles: Record<ServiceName, ServiceRole>;
  readonly ecs?: EcsServices;
  readonly eks?: EksCluster;

  constructor(scope: Construct, env: EnvironmentConfig, layers: ComputeLayers) {
    super(scope, { env, layer: "compute" });
    const name = `blueprint-${env.name}`;
    const key = new EncryptionKey(this, "RegistryKey", {
      alias: `${name}-registry`,
      description: `Container images of ${env.name}`,
      accountId: env.accountId,
      region: env.region,
    });
    this.registry = new Registry(this, "Registry", {
      services: serviceEntries().map((s) => s.name),
      kmsKeyArn: key.arn,
    });
    const dataKey = layers.data.key.arn;
    const secretArn = (secret: string) => layers.data.secrets.secrets[secret]?.arn as string;

    let eks: EksCluster | undefined;
    if (env.compute.kind === "eks" && env.compute.eks) {
      const clusterKey = new EncryptionKey(this, "ClusterKey", {
        alias: `${name}-eks`,
        description: `Kubernetes secrets of ${env.name}`,
        accountId: env.accountId,
        region: env.region,
      });
      eks = new EksCluster(this, "Eks", {
        clusterName: name,
        kubernetesVersion: env.compute.eks.kubernetesVersion,
        privateSubnetIds: layers.network.network.privateSubnetIds,
        secretsKmsKeyArn: clusterKey.arn,
        logRetentionDays: env.logRetentionDays,
        logKmsKeyArn: layers.network.logKey.arn,
        publicAccessCidrs: env.compute.eks.publicAccessCidrs,
        nodeInstanceTypes: env.compute.eks.nodeInstanceTypes,
        nodeMinSize: env.compute.eks.nodeMin,
        nodeMaxSize: env.compute.eks.nodeMax,
        nodeDesiredSize: env.compute.eks.nodeDesired,
        nodeSecurityGroupIds: [layers.network.securityGroups.services.id],
        access: {
          Deploy: {
            principalArn: `arn:aws:iam::${env.accountId}:role/${name}-github-deploy`,
            policy: "AmazonEKSEditPolicy",
            namespaces: [WORKLOAD_NAMESPACE],
          },
          Apply: {
            principalArn: `arn:aws:iam::${env.accountId}:role/${name}-github-apply`,
            policy: "AmazonEKSClusterAdminPolicy",
          },
          // Plans and drift runs read the workloads, Secrets included, to compare them.
          Plan: {
            principalArn: `arn:aws:iam::${env.accountId}:role/${name}-github-plan`,
            policy: "AmazonEKSAdminViewPolicy",
          },
        },
        loadBalancer: {
          securityGroupId: layers.network.securityGroups.loadBalancer.id,
          targets: serviceEntries().map((s) => ({
            name: s.name,
            targetGroupArn: layers.edge.alb.targetGroups[s.name]?.arn as string,
            nodePort: nodePortOf(s.port),
          })),
        },
        deletionProtection: env.profile === "production",
      });
      this.eks = eks;
    }

    const trustFor = (service: ServiceName): ServiceRoleTrust =>
      eks
        ? {
            kind: "irsa",
            oidcProviderArn: eks.oidcProviderArn,
            oidcIssuer: eks.oidcIssuer,
            namespace: WORKLOAD_NAMESPACE,
            serviceAccount: service,
          }
        : { kind: "ecs", accountId: env.accountId, region: env.region };
    this.serviceRoles = Object.fromEntries(
      serviceEntries().map((s) => [
        s.name,
        new ServiceRole(this, `Role-${s.name}`, {
          roleName: `${name}-${s.name}`,
          trust: trustFor(s.name),
          kafkaClusterArn: layers.messaging.kafka.clusterArn,
          produces: writableTopics(s),
          consumes: s.consumes,
          consumerGroups: s.consumes.length > 0 ? [s.name] : [],
          secretArns: s.secrets.map((kind) => secretArn(secretName(s.name, kind))),
          kmsKeyArns: [dataKey],
        }),
      ]),
    ) as Record<ServiceName, ServiceRole>;

    if (env.compute.kind === "ecs") {
      this.ecs = new EcsServices(this, "Ecs", {
        clusterName: name,
        accountId: env.accountId,
        region: env.region,
        privateSubnetIds: layers.network.network.privateSubnetIds,
        securityGroupIds: [layers.network.securityGroups.services.id],
        loadBalancerArnSuffix: layers.edge.alb.loadBalancer.arnSuffix,
        logRetentionDays: env.logRetentionDays,
        logKmsKeyArn: layers.network.logKey.arn,
        secretKmsKeyArns: [dataKey],
        services: serviceEntries().map((s) => ({
          name: s.name,
          containerPort: s.port,
          repositoryUrl: this.registry.repositories[s.name]?.repositoryUrl as string,
          repositoryArn: this.registry.repositories[s.name]?.arn as string,
          sizing: env.services[s.name],
          taskRoleArn: this.serviceRoles[s.name].roleArn,
          secrets: serviceSecrets(s.name, secretArn),
          environment: serviceEnvironment(s.name, s.port, layers, env.region),
          targetGroupArn: layers.edge.alb.targetGroups[s.name]?.arn as string,
          targetGroupArnSuffix: layers.edge.alb.targetGroups[s.name]?.arnSuffix as string,
        })),
      });
    }

    const deploy = new GithubDeployRole(this, "DeployRole", {
      environment: env.name,
      accountId: env.accountId,
      repository: env.githubRepository,
      repositoryArns: serviceEntries().map((s) => this.registry.repositories[s.name]?.arn as string),
      ecs: this.ecs
        ? {
            clusterArn: this.ecs.cluster.arn,
            serviceArns: Object.values(this.ecs.services).map((s) => s.id),
            passRoleArns: [
              ...Object.values(this.serviceRoles).map((r) => r.roleArn),
              ...Object.values(this.ecs.executionRoles).map((r) => r.arn),
            ],
          }
        : undefined,
      eksClusterArn: eks?.cluster.arn,
    });
    this.output("deploy_role_arn", deploy.role.arn, "Set as AWS_DEPLOY_ROLE_ARN in the GitHub environment");
    this.output("cluster_name", name, eks ? "EKS cluster of the services" : "ECS cluster of the services");
  }
}

/** Secrets a service reads from Secrets Manager, as ECS secret references (`<arn>:<json key>::`). */
export function serviceSecrets(
  service: ServiceName,
  secretArn: (name: string) => string,
): Record<string, string> {
  return Object.fromEntries(
    serviceEntry(service).secrets.flatMap((kind: SecretKind) =>
      Object.entries(SECRET_KINDS[kind].variables).map(([variable, key]) => [
        variable,
        `${secretArn(secretName(service, kind))}:${key}::`,
      ]),
    ),
  );
}

/** Plain settings of a service in the cloud; nothing secret. */
export function serviceEnvironment(
  service: ServiceName,
  port: number,
  layers: Pick<ComputeLayers, "data" | "messaging">,
  region: string,
): Record<string, string> {
  return {
    SERVICE_NAME: service,
    PORT: String(port),
    LOG_LEVEL: "info",
    PGHOST: layers.data.postgres.endpointAddress,
    PGPORT: "5432",
    PGDATABASE: CATALOG.database,
    PGSSLMODE: "require",
    KAFKA_BROKERS: layers.messaging.kafka.bootstrapBrokersSaslIam,
    KAFKA_AUTH: "aws-msk-iam",
    AWS_REGION: region,
  };
}
