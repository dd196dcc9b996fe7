import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Construct } from "constructs";

export interface NetworkProps {
  /** IPv4 CIDR block of the VPC. */
  readonly vpcCidr: string;
  /** Name tag prefix for the network's resources. */
  readonly namePrefix: string;
}

/** The environment's VPC. */
export class Network extends Construct {
  readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new Vpc(this, "Vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `${props.namePrefix}-vpc` },
    });
  }
}
