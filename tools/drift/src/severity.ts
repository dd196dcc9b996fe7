import type { Segment } from "./attributes";

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What Terraform does, or did outside Terraform, to one resource. */
export const ACTIONS = ["create", "update", "delete", "replace", "read", "move", "import", "forget"] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Resource types that hold data or identity whose loss is not undone by re-creating them:
 * deleting or replacing one is critical.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws_db_instance",
  "aws_db_cluster_snapshot",
  "aws_db_snapshot",
  "aws_rds_cluster",
  "aws_rds_cluster_instance",
  "aws_msk_cluster",
  "aws_msk_serverless_cluster",
  "aws_eks_cluster",
  "aws_ecs_cluster",
  "aws_s3_bucket",
  "aws_dynamodb_table",
  "aws_kms_key",
  "aws_secretsmanager_secret",
  "aws_efs_file_system",
  "aws_elasticache_cluster",
  "aws_elasticache_replication_group",
  "aws_opensearch_domain",
  "aws_ecr_repository",
  "aws_cloudwatch_log_group",
  "aws_backup_vault",
  "aws_route53_zone",
  "aws_prometheus_workspace",
  "aws_grafana_workspace",
]);

/** Resource types whose every change (other than tags) touches access or encryption. */
const SECURITY_TYPES: ReadonlySet<string> = new Set([
  "aws_security_group",
  "aws_security_group_rule",
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
  "aws_default_security_group",
  "aws_network_acl",
  "aws_network_acl_rule",
  "aws_default_network_acl",
  "aws_s3_bucket_policy",
  "aws_s3_bucket_public_access_block",
  "aws_s3_account_public_access_block",
  "aws_s3_bucket_acl",
  "aws_s3_bucket_ownership_controls",
  "aws_s3_bucket_server_side_encryption_configuration",
  "aws_secretsmanager_secret_policy",
  "aws_ecr_repository_policy",
  "aws_sns_topic_policy",
  "aws_sqs_queue_policy",
  "aws_vpc_endpoint_policy",
  "aws_eks_access_entry",
  "aws_eks_access_policy_association",
  "aws_msk_cluster_policy",
  "aws_flow_log",
  "aws_cloudtrail",
]);
const SECURITY_TYPE_PREFIXES = ["aws_iam_", "aws_kms_", "aws_wafv2_"];

/**
 * Attribute names that govern who can reach or read something: network rules, policies,
 * encryption and keys, public exposure, authentication, credentials and TLS, deletion protection.
 */
const SECURITY_ATTRIBUTE =
  /^(ingress|egress|cidr_blocks|ipv6_cidr_blocks|prefix_list_ids|.*security_group.*|.*policy.*|.*kms.*|.*encrypt.*|sse_.*|server_side_encryption.*|.*public.*|acl|grant|.*iam.*|.*principal.*|.*ssl.*|.*tls.*|certificate_arn|client_authentication|deletion_protection|endpoint_private_access|require_.*|.*password.*|.*secret.*)$/;

const TAG_ROOTS = new Set(["tags", "tags_all"]);

export function isStatefulType(type: string): boolean {
  return STATEFUL_TYPES.has(type);
}

export function isSecurityType(type: string): boolean {
  return SECURITY_TYPES.has(type) || SECURITY_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix));
}

const isSecurityPath = (segments: readonly Segment[]) =>
  segments.some((segment) => typeof segment === "string" && SECURITY_ATTRIBUTE.test(segment));

const isTagPath = (segments: readonly Segment[]) =>
  typeof segments[0] === "string" && TAG_ROOTS.has(segments[0]);

export interface SeverityInput {
  readonly type: string;
  readonly action: Action;
  /** Paths of the attributes that changed (after ignore entries were applied). */
  readonly changedPaths: readonly (readonly Segment[])[];
}

export interface Classification {
  readonly severity: Severity;
  /** Why, in a few words, for the report. */
  readonly reason: string;
}

/**
 * Classifies one resource change:
 * - critical: delete or replace of a stateful resource (database, cluster, bucket, table, key, ...);
 * - high: security-relevant resource types or attributes (network rules, IAM, encryption, public access);
 * - low: only tags change, or only the address or state ownership (move, import, read);
 * - medium: everything else.
 */
export function classify(input: SeverityInput): Classification {
  const { type, action, changedPaths } = input;
  if ((action === "delete" || action === "replace") && isStatefulType(type)) {
    return { severity: "critical", reason: `${action} of stateful ${type}` };
  }
  const nonTag = changedPaths.filter((segments) => !isTagPath(segments));
  if (action === "update" && changedPaths.length > 0 && nonTag.length === 0) {
    return { severity: "low", reason: "tags only" };
  }
  if (isSecurityType(type) && action !== "read" && action !== "move" && action !== "import") {
    return { severity: "high", reason: `security-relevant ${type}` };
  }
  const securityPath = nonTag.find(isSecurityPath);
  if (securityPath && action !== "read") {
    return { severity: "high", reason: "security-relevant attribute" };
  }
  if (action === "read" || ((action === "move" || action === "import") && nonTag.length === 0)) {
    return { severity: "low", reason: action === "read" ? "data source read" : `${action} only` };
  }
  return { severity: "medium", reason: "configuration change" };
}
