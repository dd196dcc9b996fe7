/** Names of the deployable environments; one folder of state and one set of stacks each. */
export type EnvironmentName = "dev" | "staging" | "prod";

/**
 * Everything that differs between environments. Files in this folder hold data only;
 * `validateEnvironment` checks them before anything is synthesized.
 */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** 12-digit AWS account id the environment deploys into. */
  readonly accountId: string;
  readonly region: string;
  readonly network: {
    /** IPv4 CIDR of the VPC, /16 to /20. Must not overlap another environment's. */
    readonly vpcCidr: string;
    /** Availability zones to spread subnets over: 2 or 3. */
    readonly azCount: number;
  };
  /** Where Terraform state lives; the bucket and table come from the bootstrap stack. */
  readonly state: {
    readonly bucket: string;
    readonly lockTable: string;
    readonly region: string;
  };
  /** Added to every resource through the provider's default tags. */
  readonly tags: {
    readonly owner: string;
    readonly costCenter: string;
  };
}
