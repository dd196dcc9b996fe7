import type { PolicyStatement } from "./policy-document";

/**
 * Trust for ECS tasks of this account and region only: the source conditions keep another
 * account's tasks from assuming the role through ECS (confused deputy).
 */
export function ecsTasksTrust(accountId: string, region: string): PolicyStatement {
  return {
    effect: "Allow",
    actions: ["sts:AssumeRole"],
    principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
    condition: [
      { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
      { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:ecs:${region}:${accountId}:*`] },
    ],
  };
}

/** Where a Kubernetes service account's web identity tokens come from. */
export interface ServiceAccountIdentity {
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: string;
  /** Issuer host and path without `https://`, the prefix of the trust condition keys. */
  readonly oidcIssuer: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Trust for one Kubernetes service account through IAM roles for service accounts (IRSA). */
export function serviceAccountTrust(identity: ServiceAccountIdentity): PolicyStatement {
  return {
    effect: "Allow",
    actions: ["sts:AssumeRoleWithWebIdentity"],
    principals: [{ type: "Federated", identifiers: [identity.oidcProviderArn] }],
    condition: [
      {
        test: "StringEquals",
        variable: `${identity.oidcIssuer}:sub`,
        values: [`system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`],
      },
      { test: "StringEquals", variable: `${identity.oidcIssuer}:aud`, values: ["sts.amazonaws.com"] },
    ],
  };
}
