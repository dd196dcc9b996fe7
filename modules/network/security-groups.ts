import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface PlatformSecurityGroupsProps {
  /** Prefix of the group names, e.g. `blueprint-prod`. */
  readonly name: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** Ports the load balancer forwards to (container ports on ECS, NodePorts on EKS). */
  readonly targetPorts: readonly PortRange[];
  /**
   * Ports the services reach inside the VPC (PostgreSQL 5432, MSK IAM 9098).
   * @default [{from: 5432, to: 5432}, {from: 9098, to: 9098}]
   */
  readonly internalClientPorts?: readonly PortRange[];
  /**
   * Ports the services reach on the internet through NAT (AWS APIs, SMTP submission).
   * @default [{from: 443, to: 443}, {from: 587, to: 587}]
   */
  readonly internetClientPorts?: readonly PortRange[];
}

/**
 * The two security groups every other layer refers to: the load balancer's (HTTP and HTTPS from the
 * internet, out only to the targets) and the services' (in only from the load balancer). Database and
 * broker groups admit the services' group, so nothing else reaches them.
 */
export class PlatformSecurityGroups extends Construct {
  readonly loadBalancer: SecurityGroup;
  readonly services: SecurityGroup;

  constructor(scope: Construct, id: string, props: PlatformSecurityGroupsProps) {
    super(scope, id);
    const internalClientPorts = props.internalClientPorts ?? [
      { from: 5432, to: 5432 },
      { from: 9098, to: 9098 },
    ];
    const internetClientPorts = props.internetClientPorts ?? [
      { from: 443, to: 443 },
      { from: 587, to: 587 },
    ];
    if (props.targetPorts.length === 0)
      throw new Error(`PlatformSecurityGroups ${props.name}: targetPorts must not be empty`);
    for (const range of [...props.targetPorts, ...internalClientPorts, ...internetClientPorts]) {
      if (range.from < 1 || range.to > 65535 || range.from > range.to) {
        throw new Error(`PlatformSecurityGroups ${props.name}: invalid port range ${range.from}-${range.to}`);
      }
    }

    this.loadBalancer = new SecurityGroup(this, "LoadBalancer", {
      name: `${props.name}-alb`,
      description: "Public load balancer: HTTP and HTTPS in, targets out",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-alb` },
    });
    this.services = new SecurityGroup(this, "Services", {
      name: `${props.name}-services`,
      description: "Service tasks and pods: traffic from the load balancer only",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-services` },
    });

    for (const port of [443, 80]) {
      new VpcSecurityGroupIngressRule(this, `LoadBalancerIn${port}`, {
        securityGroupId: this.loadBalancer.id,
        description: port === 443 ? "HTTPS from the internet" : "HTTP from the internet, redirected to HTTPS",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      });
    }
    props.targetPorts.forEach((range, i) => {
      new VpcSecurityGroupEgressRule(this, `LoadBalancerToTargets${i}`, {
        securityGroupId: this.loadBalancer.id,
        description: `To service targets ${range.from}-${range.to}`,
        ipProtocol: "tcp",
        fromPort: range.from,
        toPort: range.to,
        referencedSecurityGroupId: this.services.id,
      });
      new VpcSecurityGroupIngressRule(this, `ServicesFromLoadBalancer${i}`, {
        securityGroupId: this.services.id,
        description: `From the load balancer ${range.from}-${range.to}`,
        ipProtocol: "tcp",
        fromPort: range.from,
        toPort: range.to,
        referencedSecurityGroupId: this.loadBalancer.id,
      });
    });
    internalClientPorts.forEach((range, i) => {
      new VpcSecurityGroupEgressRule(this, `ServicesToVpc${i}`, {
        securityGroupId: this.services.id,
        description: `To data and messaging ${range.from}-${range.to}`,
        ipProtocol: "tcp",
        fromPort: range.from,
        toPort: range.to,
        cidrIpv4: props.vpcCidr,
      });
    });
    internetClientPorts.forEach((range, i) => {
      new VpcSecurityGroupEgressRule(this, `ServicesToInternet${i}`, {
        securityGroupId: this.services.id,
        description: `To AWS APIs and SMTP ${range.from}-${range.to}`,
        ipProtocol: "tcp",
        fromPort: range.from,
        toPort: range.to,
        cidrIpv4: "0.0.0.0/0",
      });
    });
  }
}
