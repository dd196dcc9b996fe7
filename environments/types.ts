import type { ServiceName } from "@blueprint/service-kit/catalog";
import type { WorkloadSizing } from "../modules/workload/workload";

/** Names of the deployable environments; one AWS account, one set of stacks and state files each. */
export type EnvironmentName = "dev" | "staging" | "prod";

/**
 * Security profile. `production` turns on the guards the validator insists on (multi-AZ database,
 * deletion protection, final snapshot, backups of 7 days or more, NAT per AZ, WAF, 3+ brokers).
 */
export type Profile = "production" | "non-production";

/** Where the services run: ECS Fargate, or EKS with a managed node group. */
export type ComputeKind = "ecs" | "eks";

/**
 * What adds nodes when pods are Pending. `cluster-autoscaler` scales the managed node group's Auto
 * Scaling group, which the ALB target groups are attached to. `karpenter` is listed so the choice is
 * explicit, and refused by validation: its nodes join no Auto Scaling group, so the ALB would never
 * reach them (decision 0020; see docs/decisions/0034-node-autoscaler.md).
 */
export type NodeAutoscaler = "cluster-autoscaler" | "karpenter";

/**
 * How people sign in to Managed Grafana. `AWS_SSO` needs IAM Identity Center enabled in the account
 * or its organisation before the first apply; `SAML` needs nothing before, and an identity provider's
 * metadata added to the workspace after; `none` creates no workspace (alarms and AMP still work).
 */
export type GrafanaAuthentication = "AWS_SSO" | "SAML" | "none";

/** Replicas, autoscaling range, CPU and memory of one service in one environment. */
export type ServiceSizing = WorkloadSizing;

/**
 * Who issues the access tokens the services accept.
 * - `cognito`: the stacks create a Cognito user pool for the environment, whose resource server
 *   offers the catalog's scopes (`AUTH_SCOPES`).
 * - `external`: an identity provider you already run; the stacks create none and pass its settings on.
 */
export type AuthSetting =
  | { readonly provider: "cognito" }
  | {
      readonly provider: "external";
      /** Issuer URL exactly as the tokens' `iss` claim has it, https, no trailing slash. */
      readonly issuer: string;
      /** The audience the services require (`aud`), or for Cognito the resource server identifier. */
      readonly audience: string;
      /** Where the signing keys are. @default "<issuer>/.well-known/jwks.json" */
      readonly jwksUrl?: string;
    };

/**
 * Everything that differs between environments. Files in this folder hold data only;
 * `validateEnvironments` checks them before anything is synthesized.
 */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  readonly profile: Profile;
  /** 12-digit AWS account id the environment deploys into; the provider refuses any other. */
  readonly accountId: string;
  readonly region: string;
  readonly network: {
    /** Private IPv4 CIDR of the VPC, /16 to /20. Must not overlap another environment's. */
    readonly vpcCidr: string;
    /** Availability zones to spread subnets over: 2 or 3. */
    readonly azCount: number;
    /** One NAT gateway for the VPC (cheaper) or one per AZ (survives an AZ outage). */
    readonly natGateways: "single" | "perAz";
    /** Interface endpoints for ECR, Secrets Manager, CloudWatch Logs and STS (cost per AZ-hour). */
    readonly interfaceEndpoints: boolean;
  };
  readonly database: {
    /** RDS instance class, e.g. db.t4g.medium. */
    readonly instanceClass: string;
    readonly allocatedStorageGiB: number;
    /** Storage autoscaling ceiling. */
    readonly maxAllocatedStorageGiB: number;
    /** 1 to 35 days; point-in-time recovery covers the same window. */
    readonly backupRetentionDays: number;
    readonly multiAz: boolean;
    readonly deletionProtection: boolean;
    /** Take a final snapshot when the instance is destroyed. */
    readonly finalSnapshot: boolean;
    /** 7 (free tier) or a multiple of 31 up to 731. */
    readonly performanceInsightsRetentionDays: number;
  };
  readonly kafka: {
    /** MSK broker instance type, e.g. kafka.t3.small or kafka.m7g.large. */
    readonly brokerInstanceType: string;
    /** A multiple of the AZ count; MSK places brokers evenly across the subnets. */
    readonly brokerCount: number;
    readonly storagePerBrokerGiB: number;
  };
  readonly compute: {
    readonly kind: ComputeKind;
    /** EKS only: Kubernetes version and managed node group. */
    readonly eks?: {
      readonly kubernetesVersion: string;
      readonly nodeInstanceTypes: readonly string[];
      readonly nodeMin: number;
      readonly nodeMax: number;
      readonly nodeDesired: number;
      /** CIDRs allowed to reach the public API endpoint; empty keeps the endpoint private only. */
      readonly publicAccessCidrs: readonly string[];
      /** Adds nodes for Pending pods up to nodeMax; see `NodeAutoscaler`. */
      readonly nodeAutoscaler: NodeAutoscaler;
    };
  };
  readonly services: Readonly<Record<ServiceName, ServiceSizing>>;
  readonly edge: {
    /** Public host name the ALB serves, e.g. api.dev.example.com. */
    readonly domainName: string;
    /**
     * Route 53 hosted zone for DNS validation and the alias record. Without it (and without
     * `certificateArn`) the edge apply waits until the validation record is added where the domain's
     * DNS is served (docs/first-apply.md), so the HTTPS listener only ever gets an issued certificate.
     */
    readonly hostedZoneId?: string;
    /** An ACM certificate already issued for `domainName` in `region`; excludes `hostedZoneId`. */
    readonly certificateArn?: string;
    /** AWS managed rule groups in front of the ALB. */
    readonly waf: boolean;
    readonly deletionProtection: boolean;
  };
  /** Horizontal autoscaling targets of every service (ECS target tracking, Kubernetes HPA). */
  readonly autoscaling: {
    /** Average CPU utilisation of the requests to hold, 10 to 90. */
    readonly cpuTargetPercent: number;
    /** Average memory utilisation of the requests to hold, 10 to 95. */
    readonly memoryTargetPercent: number;
  };
  readonly observability: {
    readonly grafanaAuthentication: GrafanaAuthentication;
    /**
     * Share of the requests that start a trace, 0 to 1 (`parentbased_traceidratio`): a trace is
     * kept or dropped whole, as every later span follows its root's decision. 1 traces everything.
     */
    readonly traceSampleRatio: number;
  };
  /**
   * Copies of the database in a second region: RDS replicates automated backups and transaction logs
   * there, so the database can be restored to within minutes of a regional loss. Required by the
   * production profile.
   */
  readonly disasterRecovery?: {
    /** The second region, not `region`. */
    readonly region: string;
    /** Days the replicated backups cover, 1 to 35. */
    readonly backupRetentionDays: number;
  };
  /** Retention of every CloudWatch log group (flow logs, services, brokers, control plane). */
  readonly logRetentionDays: number;
  /** Who is told when alarms fire. */
  readonly alerts: {
    readonly emails: readonly string[];
  };
  /** Where Terraform state lives; the bucket and table come from the environment's bootstrap stack. */
  readonly state: {
    readonly bucket: string;
    readonly lockTable: string;
  };
  /** The GitHub repository (owner/name) whose workflows may assume the plan, apply and deploy roles. */
  readonly githubRepository: string;
  /**
   * The account's GitHub Actions OIDC provider (IAM allows one per account): `create` it in this
   * environment's bootstrap stack, or use the `existing` one. Environments sharing an account create it once.
   * @default "create"
   */
  readonly githubOidcProvider?: "create" | "existing";
  /** Who issues the services' access tokens. @default { provider: "cognito" } */
  readonly auth?: AuthSetting;
  /** Added to every resource through the provider's default tags. */
  readonly tags: {
    readonly owner: string;
    readonly costCenter: string;
  };
}
