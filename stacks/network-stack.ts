import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { Network } from "../modules/network/network";
import { EnvironmentStack } from "./environment-stack";

/** Network layer: VPC and its subnets; the other layers reference its outputs. */
export class NetworkStack extends EnvironmentStack {
  readonly network: Network;

  constructor(scope: Construct, env: EnvironmentConfig) {
    super(scope, { env, layer: "network" });
    this.network = new Network(this, "Network", {
      vpcCidr: env.network.vpcCidr,
      namePrefix: `blueprint-${env.name}`,
    });
    new TerraformOutput(this, "vpc_id", {
      value: this.network.vpc.id,
      description: "ID of the environment's VPC",
    });
  }
}
