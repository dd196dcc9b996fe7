import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { DependencyGraph } from "./dependency-graph";
import { synthAll } from "./synth-all";

// Pairs AWS validates at create time: the first resource fails its first apply unless the second
// already exists, so it must depend on it (by reference, depends_on, or a remote state output that
// references it). Each predicate picks the instances the rule applies to.
const RULES: ReadonlyArray<{
  readonly type: string;
  readonly applies: (body: Record<string, unknown>) => boolean;
  readonly needs: string;
  readonly why: string;
}> = [
  {
    type: "aws_lb_listener",
    // A literal ARN is an already issued certificate; a reference is one requested in this plan.
    applies: (b) => b.protocol === "HTTPS" && String(b.certificate_arn).startsWith("${"),
    needs: "aws_acm_certificate_validation",
    why: "ACM refuses a listener a certificate still pending validation (UnsupportedCertificate)",
  },
  {
    type: "aws_lb",
    applies: (b) => (b.access_logs as { enabled?: boolean } | undefined)?.enabled === true,
    needs: "aws_s3_bucket_policy",
    why: "the load balancer checks it may write its access logs (Access Denied)",
  },
  {
    type: "aws_ecs_service",
    applies: (b) => Array.isArray(b.load_balancer) && b.load_balancer.length > 0,
    needs: "aws_lb_listener_rule",
    why: "ECS refuses a target group with no load balancer",
  },
  {
    type: "aws_eks_cluster",
    applies: () => true,
    needs: "aws_cloudwatch_log_group",
    why: "EKS would create its log group without retention or encryption",
  },
  {
    type: "aws_eks_cluster",
    applies: () => true,
    needs: "aws_iam_role_policy_attachment",
    why: "EKS cannot create the cluster's network interfaces before its role has its policies",
  },
  {
    type: "aws_eks_node_group",
    applies: () => true,
    needs: "aws_iam_role_policy_attachment",
    why: "nodes cannot join before their role has its policies",
  },
  {
    type: "aws_db_instance",
    applies: (b) =>
      Array.isArray(b.enabled_cloudwatch_logs_exports) && b.enabled_cloudwatch_logs_exports.length > 0,
    needs: "aws_cloudwatch_log_group",
    why: "RDS would create its log groups without retention or encryption",
  },
  {
    type: "aws_lambda_function",
    applies: (b) => b.vpc_config !== undefined,
    needs: "aws_iam_role_policy_attachment",
    why: "Lambda checks at create time that its role may create network interfaces",
  },
  {
    type: "aws_lambda_function",
    applies: () => true,
    needs: "aws_cloudwatch_log_group",
    why: "Lambda would create its log group without retention or encryption",
  },
  {
    type: "aws_lambda_invocation",
    applies: () => true,
    needs: "aws_msk_cluster",
    why: "the topic provisioner needs the brokers it creates topics on",
  },
  {
    type: "aws_codebuild_project",
    applies: (b) => b.vpc_config !== undefined,
    needs: "aws_iam_role_policy",
    why: "CodeBuild checks at create time that its role may manage network interfaces in the VPC",
  },
  {
    type: "aws_eks_addon",
    applies: (b) => b.addon_name === "amazon-cloudwatch-observability",
    needs: "aws_cloudwatch_log_group",
    why: "the add-on would create its log groups without retention or encryption",
  },
];

const graph = new DependencyGraph(synthAll(ENVIRONMENTS));

describe("first apply order", () => {
  it.each(RULES.map((r) => [r.type, r.needs, r] as const))(
    "When a %s is created, then the %s it is validated against already exists",
    (_type, _needs, rule) => {
      const missing: string[] = [];
      let checked = 0;
      for (const resource of graph.resources()) {
        if (resource.type !== rule.type || !rule.applies(resource.body)) continue;
        checked++;
        if (!graph.dependencyTypesOf(resource.id).has(rule.needs))
          missing.push(`${resource.id}: ${rule.why}`);
      }
      expect(checked, `no ${rule.type} the rule applies to; remove or fix the rule`).toBeGreaterThan(0);
      expect(missing).toEqual([]);
    },
  );
});
