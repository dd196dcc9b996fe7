import type { Construct } from "constructs";
import { EcsMetricsCollector } from "../modules/observability/ecs-metrics-collector";
import { EcsTaskStops } from "../modules/observability/ecs-task-stops";
import { EksMetricsScraper } from "../modules/observability/eks-metrics-scraper";
import { ManagedGrafana } from "../modules/observability/managed-grafana";
import { Observability } from "../modules/observability/observability";
import { PlatformAlarms } from "../modules/observability/platform-alarms";
import type { ComputeLayerProps } from "./compute-stack";
import { EnvironmentStack } from "./environment-stack";

/**
 * Observability layer: the same alert rules as the local stack in Amazon Managed Service for
 * Prometheus, Managed Grafana, the collector for the environment's compute, and CloudWatch alarms
 * on the load balancer, database and brokers as a second line.
 */
export class ObservabilityStack extends EnvironmentStack {
  constructor(scope: Construct, props: ComputeLayerProps) {
    super(scope, { env: props.env, layer: "observability" });
    const { env, compute } = props;
    const { layers, wiring } = compute;
    const observability = new Observability(this, "Observability", {
      environment: env.name,
      namePrefix: this.namePrefix,
      accountId: env.accountId,
      region: env.region,
      logRetentionDays: env.logRetentionDays,
      logKmsKeyArn: layers.network.logKey.arn,
      pageSubscriptions: env.alerts.emails.map((endpoint) => ({ protocol: "email" as const, endpoint })),
      ticketSubscriptions: env.alerts.emails.map((endpoint) => ({ protocol: "email" as const, endpoint })),
    });
    const { grafanaAuthentication } = env.observability;
    const grafana =
      grafanaAuthentication === "none"
        ? undefined
        : new ManagedGrafana(this, "Grafana", {
            environment: env.name,
            namePrefix: this.namePrefix,
            accountId: env.accountId,
            region: env.region,
            prometheusWorkspaceArn: observability.workspaceArn,
            authenticationProviders: [grafanaAuthentication],
          });
    if (compute.ecs) {
      new EcsMetricsCollector(this, "Collector", {
        environment: env.name,
        accountId: env.accountId,
        region: env.region,
        clusterName: compute.ecs.clusterName,
        clusterArn: compute.ecs.cluster.arn,
        vpcId: layers.network.network.vpc.id,
        privateSubnetIds: layers.network.network.privateSubnetIds,
        servicesSecurityGroupId: layers.network.securityGroups.services.id,
        servicePorts: Object.fromEntries(wiring.services().map((s) => [s.name, s.port])),
        workspaceArn: observability.workspaceArn,
        remoteWriteUrl: observability.remoteWriteUrl,
        logRetentionDays: env.logRetentionDays,
        logKmsKeyArn: layers.network.logKey.arn,
      });
      // On EKS a crashed container restarts in its pod, which ServiceRestarting sees; ECS replaces the task.
      new EcsTaskStops(this, "TaskStops", {
        namePrefix: this.namePrefix,
        accountId: env.accountId,
        clusterArn: compute.ecs.cluster.arn,
        services: wiring.services().map((s) => s.name),
        ticketTopicArn: observability.alertTopics.ticket.arn,
        logRetentionDays: env.logRetentionDays,
        logKmsKeyArn: layers.network.logKey.arn,
      });
    }
    if (compute.eks) {
      new EksMetricsScraper(this, "Scraper", {
        environment: env.name,
        namePrefix: this.namePrefix,
        clusterName: compute.eks.clusterName,
        clusterArn: compute.eks.cluster.arn,
        subnetIds: layers.network.network.privateSubnetIds,
        // The cluster security group admits its own members, so the scraper reaches every pod.
        securityGroupIds: [compute.eks.nodeSecurityGroupId],
        workspaceArn: observability.workspaceArn,
        services: wiring.services().map((s) => s.name),
      });
    }
    new PlatformAlarms(this, "Alarms", {
      namePrefix: this.namePrefix,
      pageTopicArn: observability.alertTopics.page.arn,
      ticketTopicArn: observability.alertTopics.ticket.arn,
      alb: {
        loadBalancerArnSuffix: layers.edge.alb.loadBalancer.arnSuffix,
        targetGroupArnSuffixes: Object.fromEntries(
          wiring.services().map((s) => [s.name, layers.edge.alb.targetGroup(s.name).arnSuffix]),
        ),
      },
      database: { instanceIdentifier: layers.data.postgres.instance.identifier },
      kafka: { clusterName: layers.messaging.kafka.clusterName, brokerCount: env.kafka.brokerCount },
    });
    this.output(
      "prometheus_endpoint",
      observability.prometheusEndpoint,
      "Amazon Managed Service for Prometheus query endpoint",
    );
    if (grafana) this.output("grafana_endpoint", grafana.endpoint, "Amazon Managed Grafana URL");
  }
}
