import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { policyDocument } from "../iam/policy-document";
import { subnetPlan } from "./cidr";

/** Services reached privately through interface endpoints when `interfaceEndpoints` is on. */
export const INTERFACE_ENDPOINT_SERVICES = [
  "ecr.api",
  "ecr.dkr",
  "secretsmanager",
  "logs",
  "sts",
  "kms",
] as const;

export interface NetworkProps {
  /** Prefix of resource names and Name tags, e.g. `blueprint-prod`. */
  readonly name: string;
  /** Private IPv4 CIDR of the VPC, /16 to /20. */
  readonly vpcCidr: string;
  readonly region: string;
  /** Availability zones to use: 2 or 3. */
  readonly azCount: number;
  /**
   * Zone names, pinned so the network never moves when AWS adds a zone to the region.
   * @default the region's first zones: `<region>a`, `<region>b`, `<region>c`
   */
  readonly availabilityZones?: readonly string[];
  /**
   * `single`: one NAT gateway shared by all AZs; `perAz`: one per AZ, so losing an AZ
   * does not cut the others off the internet.
   * @default "perAz"
   */
  readonly natGateways?: "single" | "perAz";
  /** Retention of the flow log group. @default 90 */
  readonly flowLogRetentionDays?: number;
  /** KMS key encrypting the flow log group. */
  readonly logKmsKeyArn: string;
  /**
   * Interface endpoints for ECR, Secrets Manager, CloudWatch Logs, STS and KMS in the private subnets.
   * @default false (traffic to those APIs goes through NAT)
   */
  readonly interfaceEndpoints?: boolean;
}

/**
 * A VPC over 2 or 3 AZs with public subnets (load balancer, NAT), private subnets (services,
 * brokers) and isolated subnets without any internet route (database); flow logs of all traffic
 * to an encrypted log group; an S3 gateway endpoint; the default security group emptied.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly vpcCidr: string;
  readonly publicSubnetIds: string[] = [];
  readonly privateSubnetIds: string[] = [];
  readonly isolatedSubnetIds: string[] = [];
  readonly flowLogGroup: CloudwatchLogGroup;
  private readonly name: string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.name = props.name;
    const availabilityZones = validatedZones(props);
    this.vpcCidr = props.vpcCidr;
    this.vpc = new Vpc(this, "Vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    // Terraform adopts the VPC's default security group and removes its allow-all rules.
    new DefaultSecurityGroup(this, "DefaultSecurityGroup", {
      vpcId: this.vpc.id,
      tags: { Name: `${props.name}-default-unused` },
    });

    const igw = new InternetGateway(this, "InternetGateway", {
      vpcId: this.vpc.id,
      tags: { Name: props.name },
    });
    const publicRoutes = this.routeTable("PublicRoutes", "public");
    new Route(this, "PublicDefaultRoute", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    const isolatedRoutes = this.routeTable("IsolatedRoutes", "isolated");
    const privateRouteTableIds: string[] = [];
    const nats: NatGateway[] = [];
    availabilityZones.forEach((zone, az) => {
      const plan = subnetPlan(props.vpcCidr, az);
      const suffix = String.fromCharCode(97 + az);
      const publicSubnet = this.subnet(`Public${az}`, zone, plan.public, publicRoutes, {
        Name: `${props.name}-public-${suffix}`,
        Tier: "public",
        "kubernetes.io/role/elb": "1",
      });
      this.publicSubnetIds.push(publicSubnet.id);
      if (az === 0 || props.natGateways !== "single")
        nats.push(this.natGateway(az, suffix, publicSubnet, igw));
      const nat = nats[props.natGateways === "single" ? 0 : az] as NatGateway;

      const privateRoutes = this.routeTable(`PrivateRoutes${az}`, `private-${suffix}`);
      new Route(this, `PrivateDefaultRoute${az}`, {
        routeTableId: privateRoutes.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nat.id,
      });
      const privateSubnet = this.subnet(`Private${az}`, zone, plan.private, privateRoutes, {
        Name: `${props.name}-private-${suffix}`,
        Tier: "private",
        "kubernetes.io/role/internal-elb": "1",
      });
      this.privateSubnetIds.push(privateSubnet.id);
      privateRouteTableIds.push(privateRoutes.id);

      const isolatedSubnet = this.subnet(`Isolated${az}`, zone, plan.isolated, isolatedRoutes, {
        Name: `${props.name}-isolated-${suffix}`,
        Tier: "isolated",
      });
      this.isolatedSubnetIds.push(isolatedSubnet.id);
    });

    new VpcEndpoint(this, "S3Endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...privateRouteTableIds, isolatedRoutes.id],
      tags: { Name: `${props.name}-s3` },
    });
    if (props.interfaceEndpoints ?? false) this.interfaceEndpoints(props);
    this.flowLogGroup = this.flowLogs(props);
  }

  private routeTable(id: string, nameSuffix: string): RouteTable {
    return new RouteTable(this, id, { vpcId: this.vpc.id, tags: { Name: `${this.name}-${nameSuffix}` } });
  }

  /** A subnet and its route table association (`<id>Routes`). */
  private subnet(
    id: string,
    zone: string,
    cidrBlock: string,
    routes: RouteTable,
    tags: Record<string, string>,
  ): Subnet {
    const subnet = new Subnet(this, id, {
      vpcId: this.vpc.id,
      availabilityZone: zone,
      cidrBlock,
      // Nothing launched here gets a public IP, not even in the public tier: only the ALB and NAT face out.
      mapPublicIpOnLaunch: false,
      tags,
    });
    new RouteTableAssociation(this, `${id}Routes`, { subnetId: subnet.id, routeTableId: routes.id });
    return subnet;
  }

  private natGateway(az: number, suffix: string, subnet: Subnet, igw: InternetGateway): NatGateway {
    const eip = new Eip(this, `NatIp${az}`, { domain: "vpc", tags: { Name: `${this.name}-nat-${suffix}` } });
    return new NatGateway(this, `Nat${az}`, {
      allocationId: eip.id,
      subnetId: subnet.id,
      tags: { Name: `${this.name}-${suffix}` },
      dependsOn: [igw],
    });
  }

  private interfaceEndpoints(props: NetworkProps): void {
    const endpointSg = new SecurityGroup(this, "EndpointSecurityGroup", {
      name: `${props.name}-endpoints`,
      description: "HTTPS from inside the VPC to AWS interface endpoints",
      vpcId: this.vpc.id,
      tags: { Name: `${props.name}-endpoints` },
    });
    new VpcSecurityGroupIngressRule(this, "EndpointHttpsFromVpc", {
      securityGroupId: endpointSg.id,
      description: "HTTPS from the VPC",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: props.vpcCidr,
    });
    for (const service of INTERFACE_ENDPOINT_SERVICES) {
      new VpcEndpoint(this, `Endpoint-${service}`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.privateSubnetIds,
        securityGroupIds: [endpointSg.id],
        tags: { Name: `${props.name}-${service}` },
      });
    }
  }

  /** Flow logs of all traffic into an encrypted log group, written through a role scoped to it. */
  private flowLogs(props: NetworkProps): CloudwatchLogGroup {
    const group = new CloudwatchLogGroup(this, "FlowLogGroup", {
      name: `/vpc/${props.name}/flow-logs`,
      retentionInDays: props.flowLogRetentionDays ?? 90,
      kmsKeyId: props.logKmsKeyArn,
    });
    const role = new IamRole(this, "FlowLogRole", {
      name: `${props.name}-flow-logs`,
      assumeRolePolicy: policyDocument(this, "FlowLogTrust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
        },
      ]).json,
    });
    new IamRolePolicy(this, "FlowLogRolePolicy", {
      role: role.name,
      name: "write-flow-logs",
      policy: policyDocument(this, "FlowLogWrite", [
        {
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [group.arn, `${group.arn}:*`],
        },
      ]).json,
    });
    new FlowLog(this, "FlowLog", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    });
    return group;
  }
}

/** The zones to use, after checking the AZ count and the VPC CIDR. */
function validatedZones(props: NetworkProps): readonly string[] {
  const owner = `Network ${props.name}`;
  const zones =
    props.availabilityZones ?? ["a", "b", "c"].slice(0, props.azCount).map((z) => `${props.region}${z}`);
  if (!Number.isInteger(props.azCount) || props.azCount < 2 || props.azCount > 3) {
    throw new Error(`${owner}: azCount must be 2 or 3, got ${props.azCount}`);
  }
  if (zones.length !== props.azCount) {
    throw new Error(
      `${owner}: availabilityZones must list azCount (${props.azCount}) zones, got ${zones.length}`,
    );
  }
  if (!Token.isUnresolved(props.vpcCidr)) {
    const prefix = Number(props.vpcCidr.split("/")[1]);
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(props.vpcCidr) || prefix < 16 || prefix > 20) {
      throw new Error(`${owner}: vpcCidr must be an IPv4 CIDR from /16 to /20, got "${props.vpcCidr}"`);
    }
  }
  return zones;
}
