import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { synthAll } from "./synth-all";

// The scaling and recovery targets of the architecture document (seed 001), on the synthesized JSON.
const stacks = synthAll(ENVIRONMENTS);

function resources(envName: string, type: string): Record<string, unknown>[] {
  return [...stacks]
    .filter(([id]) => id.startsWith(`${envName}-`))
    .flatMap(([, stack]) => Object.values(stack.resource[type] ?? {}));
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("scaling and recovery of %s", (name, env) => {
  it("When load grows, then every service scales out at 70 % CPU or 80 % memory", () => {
    if (env.compute.kind === "ecs") {
      const targets = resources(name, "aws_appautoscaling_policy").map((p) => {
        const config = p.target_tracking_scaling_policy_configuration as {
          predefined_metric_specification: { predefined_metric_type: string };
          target_value: number;
        };
        return [config.predefined_metric_specification.predefined_metric_type, config.target_value];
      });
      for (const _service of Object.keys(env.services)) {
        expect(targets).toContainEqual(["ECSServiceAverageCPUUtilization", 70]);
        expect(targets).toContainEqual(["ECSServiceAverageMemoryUtilization", 80]);
      }
      expect(targets.filter(([type]) => type === "ECSServiceAverageMemoryUtilization")).toHaveLength(
        Object.keys(env.services).length,
      );
    } else {
      const autoscalers = resources(name, "kubernetes_horizontal_pod_autoscaler_v2");
      expect(autoscalers).toHaveLength(Object.keys(env.services).length);
      for (const hpa of autoscalers) {
        const metrics = (
          hpa.spec as {
            metric: Array<{ resource: { name: string; target: { average_utilization: number } } }>;
          }
        ).metric;
        expect(metrics.map((m) => [m.resource.name, m.resource.target.average_utilization])).toEqual([
          ["cpu", 70],
          ["memory", 80],
        ]);
      }
    }
  });

  it("When Kafka runs, then it has three brokers", () => {
    for (const cluster of resources(name, "aws_msk_cluster")) expect(cluster.number_of_broker_nodes).toBe(3);
  });

  it("When the environment is production, then its services may grow to 50 replicas and its database is copied to a second region", () => {
    if (env.profile !== "production") return;
    for (const hpa of resources(name, "kubernetes_horizontal_pod_autoscaler_v2")) {
      expect((hpa.spec as { max_replicas: number }).max_replicas).toBe(50);
    }
    const [replication] = resources(name, "aws_db_instance_automated_backups_replication");
    expect(replication).toMatchObject({ region: env.disasterRecovery?.region });
    expect(replication?.region).not.toBe(env.region);
  });
});

describe("node autoscaling on EKS", () => {
  const eksEnvironments = ENVIRONMENTS.filter((e) => e.compute.kind === "eks");

  it.each(eksEnvironments.map((e) => [e.name, e] as const))(
    "When pods of %s are Pending for lack of room, then the cluster autoscaler may add nodes and Terraform leaves the count to it",
    (name, env) => {
      const [deployment] = resources(name, "kubernetes_deployment_v1").filter(
        (d) => (d.metadata as { name: string }).name === "cluster-autoscaler",
      );
      const spec = deployment?.spec as
        | { template: { spec: { container: Array<{ image: string; command: string[] }> } } }
        | undefined;
      const container = spec?.template.spec.container[0];
      expect(container?.image).toBe(
        `registry.k8s.io/autoscaling/cluster-autoscaler:v${env.compute.eks?.kubernetesVersion}.0`,
      );
      expect(container?.command).toContain(
        `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/blueprint-${name}`,
      );
      const [account] = resources(name, "kubernetes_service_account_v1").filter(
        (a) => (a.metadata as { name: string }).name === "cluster-autoscaler",
      );
      expect(
        (account?.metadata as { annotations: Record<string, string> } | undefined)?.annotations[
          "eks.amazonaws.com/role-arn"
        ],
      ).toMatch(/ClusterAutoscalerRole/);
      const [nodeGroup] = resources(name, "aws_eks_node_group");
      expect(nodeGroup?.lifecycle).toMatchObject({ ignore_changes: ["scaling_config[0].desired_size"] });
      expect(nodeGroup?.scaling_config).toMatchObject({ max_size: env.compute.eks?.nodeMax });
    },
  );

  it.each(eksEnvironments.map((e) => [e.name] as const))(
    "When pods of %s write to stdout, then a log shipper sends it to CloudWatch",
    (name) => {
      expect(resources(name, "aws_eks_addon").map((a) => a.addon_name)).toContain(
        "amazon-cloudwatch-observability",
      );
    },
  );
});
