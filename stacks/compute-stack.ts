import { deadLetterTopic, redriveGroup, writableTopics } from "@blueprint/service-kit/catalog";
import type { Construct } from "constructs";
import { EcsServices } from "../modules/ecs/ecs-services";
import { EksCluster } from "../modules/eks/eks-cluster";
import { GithubRunner } from "../modules/eks/github-runner";
import { GithubDeployRole } from "../modules/iam/github-deploy-role";
import { ServiceRole, type ServiceRoleTrust } from "../modules/iam/service-role";
import type { ServiceAccountIdentity } from "../modules/iam/trust";
import { ecsCollectorOtlpEndpoint } from "../modules/observability/ecs-metrics-collector";
import {
  eksCollectorOtlpEndpoint,
  TRACE_COLLECTOR_NAME,
  TraceCollectorRole,
} from "../modules/observability/eks-trace-collector";
import { Registry } from "../modules/registry/registry";
import { ByName } from "../modules/workload/by-name";
import type { DataStack } from "./data-stack";
import type { EdgeStack } from "./edge-stack";
import { EnvironmentStack, type LayerStackProps } from "./environment-stack";
import type { MessagingStack } from "./messaging-stack";
import type { NetworkStack } from "./network-stack";
import {
  nodePortOf,
  REDRIVE_ACCOUNT,
  type ServiceEndpoints,
  type ServiceWiring,
  WORKLOAD_NAMESPACE,
} from "./service-wiring";

/**
 * CodeBuild project of an EKS environment's in-VPC GitHub Actions runner. The workflows build the
 * same name (`codebuild-blueprint-<env>-github-runner-...`) for every `<env>-workloads` job.
 */
export function pipelineRunnerName(namePrefix: string): string {
  return `${namePrefix}-github-runner`;
}

export interface ComputeLayers {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly messaging: MessagingStack;
  readonly edge: EdgeStack;
}

export interface ComputeStackProps extends LayerStackProps {
  readonly wiring: ServiceWiring;
  readonly layers: ComputeLayers;
}

/** What the layers built on compute (workloads, observability) get. */
export interface ComputeLayerProps extends LayerStackProps {
  /** The compute layer, with the services' wiring and the layers it was built on. */
  readonly compute: ComputeStack;
}

/**
 * Compute layer: image repositories, one least-privilege role per service, the service pipeline's
 * deploy role, and the services on ECS Fargate or an EKS cluster, as the environment chooses.
 */
export class ComputeStack extends EnvironmentStack {
  readonly registry: Registry;
  readonly wiring: ServiceWiring;
  readonly layers: ComputeLayers;
  readonly ecs?: EcsServices;
  readonly eks?: EksCluster;
  /** EKS only: the in-VPC runner the pipelines plan and apply the workloads stack on. */
  readonly runner?: GithubRunner;
  private readonly roles: ByName<ServiceRole>;
  /** The on-call dead-letter redrive (`redrive dlt`): reads every dead-letter topic, writes its source. */
  readonly redriveRole: ServiceRole;
  /** EKS only: the role of the trace collector the workloads layer runs beside the services. */
  readonly traceCollectorRole?: TraceCollectorRole;

  constructor(scope: Construct, props: ComputeStackProps) {
    super(scope, { env: props.env, layer: "compute" });
    this.wiring = props.wiring;
    this.layers = props.layers;
    const key = this.encryptionKey("RegistryKey", "registry", `Container images of ${this.env.name}`);
    this.registry = new Registry(this, "Registry", {
      services: this.wiring.services().map((s) => s.name),
      kmsKeyArn: key.arn,
    });
    if (this.env.compute.kind === "eks") {
      this.eks = this.eksCluster();
      this.runner = new GithubRunner(this, "PipelineRunner", {
        name: pipelineRunnerName(this.namePrefix),
        accountId: this.env.accountId,
        region: this.env.region,
        repository: this.env.githubRepository,
        vpcId: this.layers.network.network.vpc.id,
        privateSubnetIds: this.layers.network.network.privateSubnetIds,
        clusterSecurityGroupId: this.eks.nodeSecurityGroupId,
        logRetentionDays: this.env.logRetentionDays,
        logKmsKeyArn: this.layers.network.logKey.arn,
      });
    }
    this.roles = this.serviceRoles();
    if (this.eks) {
      this.traceCollectorRole = new TraceCollectorRole(this, "TraceCollectorRole", {
        roleName: `${this.namePrefix}-${TRACE_COLLECTOR_NAME}`,
        identity: this.serviceAccountIdentity(this.eks, TRACE_COLLECTOR_NAME),
      });
    }
    this.redriveRole = this.deadLetterRedriveRole();
    if (this.env.compute.kind === "ecs") this.ecs = this.ecsServices();
    const deploy = this.deployRole();
    this.eks?.grantAccess("Deploy", {
      principalArn: deploy.role.arn,
      policy: "AmazonEKSEditPolicy",
      namespaces: [WORKLOAD_NAMESPACE],
    });
    this.output("deploy_role_arn", deploy.role.arn, "Set as AWS_DEPLOY_ROLE_ARN in the GitHub environment");
    this.output(
      "redrive_role_arn",
      this.redriveRole.roleArn,
      this.eks
        ? `Role of the ${REDRIVE_ACCOUNT} service account, for the dead-letter redrive command`
        : "Task role override for the dead-letter redrive command (aws ecs run-task)",
    );
    this.output(
      "cluster_name",
      this.eks?.cluster.name ?? this.ecs?.cluster.name,
      this.eks ? "EKS cluster of the services" : "ECS cluster of the services",
    );
  }

  /** The runtime role of the service named `name`; throws naming the known ones when there is none. */
  serviceRole(name: string): ServiceRole {
    return this.roles.get(name);
  }

  /**
   * Where the services find the database, the brokers and the trace collector: on ECS the
   * observability layer's, on EKS the workloads layer's, each by a name known before it exists.
   */
  endpoints(): ServiceEndpoints {
    return {
      databaseHost: this.layers.data.postgres.endpointAddress,
      kafkaBrokers: this.layers.messaging.kafka.bootstrapBrokersSaslIam,
      traceCollectorUrl:
        this.env.compute.kind === "eks"
          ? eksCollectorOtlpEndpoint(WORKLOAD_NAMESPACE)
          : ecsCollectorOtlpEndpoint(this.namePrefix),
    };
  }

  /** Looks a service's secret up in the data layer. */
  readonly secret = (name: string) => this.layers.data.secrets.secret(name);

  private eksCluster(): EksCluster {
    const { env, layers } = this;
    const eks = env.compute.eks;
    if (!eks) throw new Error(`environment "${env.name}": compute.eks must be set when compute.kind is eks`);
    const clusterKey = this.encryptionKey("ClusterKey", "eks", `Kubernetes secrets of ${env.name}`);
    return new EksCluster(this, "Eks", {
      clusterName: this.namePrefix,
      kubernetesVersion: eks.kubernetesVersion,
      privateSubnetIds: layers.network.network.privateSubnetIds,
      secretsKmsKeyArn: clusterKey.arn,
      logRetentionDays: env.logRetentionDays,
      logKmsKeyArn: layers.network.logKey.arn,
      publicAccessCidrs: eks.publicAccessCidrs,
      nodeInstanceTypes: eks.nodeInstanceTypes,
      nodeMinSize: eks.nodeMin,
      nodeMaxSize: eks.nodeMax,
      nodeDesiredSize: eks.nodeDesired,
      nodeSecurityGroupIds: [layers.network.securityGroups.services.id],
      access: {
        Apply: { principalArn: this.githubRoleArn("apply"), policy: "AmazonEKSClusterAdminPolicy" },
        // Plans and drift runs (pull requests included) read the workloads in their namespace only,
        // which holds no Kubernetes Secret: the services read their secrets at start (ENV_VALUE_FROM).
        Plan: {
          principalArn: this.githubRoleArn("plan"),
          policy: "AmazonEKSAdminViewPolicy",
          namespaces: [WORKLOAD_NAMESPACE],
        },
      },
      loadBalancer: {
        securityGroupId: layers.network.securityGroups.loadBalancer.id,
        targets: this.wiring.services().map((s) => ({
          name: s.name,
          targetGroupArn: layers.edge.alb.targetGroup(s.name).arn,
          nodePort: nodePortOf(s.port),
        })),
      },
      deletionProtection: env.profile === "production",
      nodeAutoscaler: eks.nodeAutoscaler === "cluster-autoscaler" ? "cluster-autoscaler" : undefined,
    });
  }

  /** One role per service: its topics, its consumer group, its secrets, assumed by ECS or IRSA. */
  private serviceRoles(): ByName<ServiceRole> {
    const roles = new ByName<ServiceRole>(`ComputeStack ${this.node.id}`, "role for service");
    for (const s of this.wiring.services()) {
      roles.add(
        s.name,
        () =>
          new ServiceRole(this, `Role-${s.name}`, {
            roleName: `${this.namePrefix}-${s.name}`,
            trust: this.trustFor(s.name),
            kafkaClusterArn: this.layers.messaging.kafka.clusterArn,
            produces: writableTopics(s),
            consumes: s.consumes,
            consumerGroups: s.consumes.length > 0 ? [s.name] : [],
            secretArns: this.wiring.secretArns(s, this.secret),
            kmsKeyArns: [this.layers.data.key.arn],
          }),
      );
    }
    return roles;
  }

  /**
   * The role on-call runs `redrive dlt` with, in a one-off task of the notification-service image:
   * read each dead-letter topic in its own `redrive.<topic>` group, republish to the source topic.
   * No secret: it needs only Kafka.
   */
  private deadLetterRedriveRole(): ServiceRole {
    const sources = [...new Set(this.wiring.services().flatMap((s) => s.consumes))].sort();
    const deadLetters = sources.map(deadLetterTopic);
    return new ServiceRole(this, "Role-redrive", {
      roleName: `${this.namePrefix}-${REDRIVE_ACCOUNT}`,
      trust: this.trustFor(REDRIVE_ACCOUNT),
      kafkaClusterArn: this.layers.messaging.kafka.clusterArn,
      produces: sources,
      consumes: deadLetters,
      consumerGroups: deadLetters.map(redriveGroup),
    });
  }

  private trustFor(serviceAccount: string): ServiceRoleTrust {
    if (!this.eks) return { kind: "ecs", accountId: this.env.accountId, region: this.env.region };
    return { kind: "irsa", ...this.serviceAccountIdentity(this.eks, serviceAccount) };
  }

  /** A service account of the workload namespace, as IRSA trusts it. */
  private serviceAccountIdentity(eks: EksCluster, serviceAccount: string): ServiceAccountIdentity {
    return {
      oidcProviderArn: eks.oidcProviderArn,
      oidcIssuer: eks.oidcIssuer,
      namespace: WORKLOAD_NAMESPACE,
      serviceAccount,
    };
  }

  private ecsServices(): EcsServices {
    const { env, layers, wiring } = this;
    return new EcsServices(this, "Ecs", {
      clusterName: this.namePrefix,
      accountId: env.accountId,
      region: env.region,
      privateSubnetIds: layers.network.network.privateSubnetIds,
      securityGroupIds: [layers.network.securityGroups.services.id],
      loadBalancerArnSuffix: layers.edge.alb.loadBalancer.arnSuffix,
      cpuTargetPercent: env.autoscaling.cpuTargetPercent,
      memoryTargetPercent: env.autoscaling.memoryTargetPercent,
      logRetentionDays: env.logRetentionDays,
      logKmsKeyArn: layers.network.logKey.arn,
      secretKmsKeyArns: [layers.data.key.arn],
      services: wiring.services().map((s) => {
        const repository = this.registry.repository(s.name);
        const targetGroup = layers.edge.alb.targetGroup(s.name);
        return {
          name: s.name,
          containerPort: s.port,
          repositoryUrl: repository.repositoryUrl,
          repositoryArn: repository.arn,
          sizing: wiring.sizing(s),
          taskRoleArn: this.serviceRole(s.name).roleArn,
          secrets: wiring.secretReferences(s, this.secret),
          environment: wiring.environment(s, this.endpoints()),
          targetGroupArn: targetGroup.arn,
          targetGroupArnSuffix: targetGroup.arnSuffix,
        };
      }),
    });
  }

  /** The service pipeline's role: push to the repositories, roll out on ECS or reach the EKS cluster. */
  private deployRole(): GithubDeployRole {
    const ecs = this.ecs;
    return new GithubDeployRole(this, "DeployRole", {
      environment: this.env.name,
      namePrefix: this.namePrefix,
      accountId: this.env.accountId,
      repository: this.env.githubRepository,
      repositoryArns: this.registry.allRepositories().map((r) => r.arn),
      ecs: ecs && {
        clusterArn: ecs.cluster.arn,
        serviceArns: ecs.allServices().map((s) => s.service.id),
        passRoleArns: [
          ...this.roles.values().map((r) => r.roleArn),
          ...ecs.allServices().map((s) => s.executionRole.arn),
        ],
      },
      eksClusterArn: this.eks?.cluster.arn,
    });
  }
}
