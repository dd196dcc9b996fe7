import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { EncryptionKey } from "../modules/kms/encryption-key";
import { Network } from "../modules/network/network";
import { PlatformSecurityGroups } from "../modules/network/security-groups";
import { EnvironmentStack } from "./environment-stack";
import type { ServiceWiring } from "./service-wiring";

export interface NetworkStackProps {
  readonly env: EnvironmentConfig;
  readonly wiring: ServiceWiring;
}

/** Network layer: VPC, subnets, NAT, endpoints, flow logs, the shared security groups and the log key. */
export class NetworkStack extends EnvironmentStack {
  readonly network: Network;
  readonly securityGroups: PlatformSecurityGroups;
  /** KMS key for every CloudWatch log group of the environment. */
  readonly logKey: EncryptionKey;

  constructor(scope: Construct, props: NetworkStackProps) {
    super(scope, { env: props.env, layer: "network" });
    const { env, wiring } = props;
    const name = this.namePrefix;
    this.logKey = new EncryptionKey(this, "LogKey", {
      alias: `${name}-logs`,
      description: `CloudWatch Logs of ${env.name}`,
      accountId: env.accountId,
      region: env.region,
      servicePrincipals: ["logs"],
    });
    this.network = new Network(this, "Network", {
      name,
      vpcCidr: env.network.vpcCidr,
      region: env.region,
      azCount: env.network.azCount,
      natGateways: env.network.natGateways,
      interfaceEndpoints: env.network.interfaceEndpoints,
      flowLogRetentionDays: env.logRetentionDays,
      logKmsKeyArn: this.logKey.arn,
    });
    this.securityGroups = new PlatformSecurityGroups(this, "SecurityGroups", {
      name,
      vpcId: this.network.vpc.id,
      vpcCidr: env.network.vpcCidr,
      targetPorts: wiring.routes().map((r) => ({ from: r.targetPort, to: r.targetPort })),
    });
    this.output("vpc_id", this.network.vpc.id, "ID of the environment's VPC");
    this.output("private_subnet_ids", this.network.privateSubnetIds, "Private subnets (services, brokers)");
  }
}
