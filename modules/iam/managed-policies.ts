/** Prefix of the ARNs of AWS managed IAM policies. */
export const AWS_MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy/";

/**
 * What must accompany an attached managed policy, because its document is AWS's, not ours, and the
 * policy tests cannot read it:
 * - `permissions-boundary`: the role carries a permissions boundary that caps the managed policy;
 * - `deny-secret-reads`: the role's own policy denies reading secret values and objects explicitly.
 */
export type ManagedPolicyGuard = "permissions-boundary" | "deny-secret-reads";

/** An AWS managed policy the blueprint attaches, reviewed like code: to which roles, and why. */
export interface ReviewedManagedPolicy {
  /** Policy name after `arn:aws:iam::aws:policy/`, e.g. `service-role/AmazonRDSEnhancedMonitoringRole`. */
  readonly name: string;
  /** Suffix of the names of the roles that may carry it, after `blueprint-<env>-`, e.g. `node`. */
  readonly roles: readonly string[];
  /** Who attaches it: the bootstrap stack (a person with administrator credentials) or the apply pipeline. */
  readonly attachedBy: "bootstrap" | "pipeline";
  readonly guard?: ManagedPolicyGuard;
  /** Why a managed policy rather than our own statements. */
  readonly why: string;
}

/**
 * The only AWS managed policies any role of the blueprint may carry. The policy tests fail on any
 * other attachment, and the apply role's permissions boundary refuses to attach one the pipeline
 * does not own here. Adding an entry is a reviewed change of this file.
 */
export const REVIEWED_MANAGED_POLICIES: readonly ReviewedManagedPolicy[] = [
  {
    name: "ReadOnlyAccess",
    roles: ["github-plan"],
    attachedBy: "bootstrap",
    guard: "deny-secret-reads",
    why: "terraform plan refreshes every resource type the stacks manage; the role's own policy denies secret values, parameters, decryption and object reads outside its state",
  },
  {
    name: "PowerUserAccess",
    roles: ["github-apply"],
    attachedBy: "bootstrap",
    guard: "permissions-boundary",
    why: "terraform apply creates and deletes resources of about twenty services; capped by a permissions boundary the role cannot change (no IAM users or keys, no secret values, no role assumption, no changes to the pipeline roles)",
  },
  {
    name: "AmazonEKSClusterPolicy",
    roles: ["cluster"],
    attachedBy: "pipeline",
    why: "the EKS control plane's service role; EKS documents this policy as its requirement",
  },
  {
    name: "AmazonEKSWorkerNodePolicy",
    roles: ["node"],
    attachedBy: "pipeline",
    why: "nodes join the cluster; EKS documents this policy as the node role's requirement",
  },
  {
    name: "AmazonEC2ContainerRegistryPullOnly",
    roles: ["node"],
    attachedBy: "pipeline",
    why: "nodes pull images (ECR pull actions only)",
  },
  {
    name: "AmazonEKS_CNI_Policy",
    roles: ["node"],
    attachedBy: "pipeline",
    why: "the VPC CNI assigns pod IP addresses on the node",
  },
  {
    name: "service-role/AmazonEBSCSIDriverPolicy",
    roles: ["ebs-csi"],
    attachedBy: "pipeline",
    why: "the EBS CSI driver add-on creates and attaches volumes",
  },
  {
    name: "service-role/AmazonRDSEnhancedMonitoringRole",
    roles: ["rds-monitoring"],
    attachedBy: "pipeline",
    why: "RDS Enhanced Monitoring writes OS metrics to CloudWatch Logs",
  },
  {
    name: "service-role/AWSLambdaVPCAccessExecutionRole",
    roles: ["topics"],
    attachedBy: "pipeline",
    why: "the topic provisioner runs in the VPC: Lambda manages its network interfaces and writes its logs",
  },
  {
    name: "CloudWatchAgentServerPolicy",
    roles: ["cloudwatch-agent"],
    attachedBy: "pipeline",
    why: "the CloudWatch observability add-on ships pod logs and Container Insights metrics from the nodes",
  },
];

/** ARN of a reviewed managed policy. */
export function managedPolicyArn(policy: ReviewedManagedPolicy): string {
  return `${AWS_MANAGED_POLICY_PREFIX}${policy.name}`;
}

/** The reviewed entry of `arn` when `roleName` (`blueprint-<env>-<suffix>`, e.g. `blueprint-prod-node`) may carry it. */
export function reviewedAttachment(arn: string, roleName: string): ReviewedManagedPolicy | undefined {
  return REVIEWED_MANAGED_POLICIES.find(
    (p) =>
      managedPolicyArn(p) === arn &&
      p.roles.some((suffix) => new RegExp(`^[a-z0-9]+-[a-z0-9]+-${suffix}$`).test(roleName)),
  );
}
