import type { Construct } from "constructs";
import { Alb } from "../modules/alb/alb";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkLayerProps } from "./network-stack";

/** Edge layer: the public load balancer, its certificate, WAF and access logs. */
export class EdgeStack extends EnvironmentStack {
  readonly alb: Alb;

  constructor(scope: Construct, props: NetworkLayerProps) {
    super(scope, { env: props.env, layer: "edge" });
    const { env, network, wiring } = props;
    this.alb = new Alb(this, "Alb", {
      name: this.namePrefix,
      vpcId: network.network.vpc.id,
      publicSubnetIds: network.network.publicSubnetIds,
      securityGroupId: network.securityGroups.loadBalancer.id,
      domainName: env.edge.domainName,
      hostedZoneId: env.edge.hostedZoneId,
      certificateArn: env.edge.certificateArn,
      routes: wiring.routes(),
      targetType: env.compute.kind === "eks" ? "instance" : "ip",
      deletionProtection: env.edge.deletionProtection,
      waf: env.edge.waf,
      logKmsKeyArn: network.logKey.arn,
      logRetentionDays: env.logRetentionDays,
    });
    this.output("alb_dns_name", this.alb.loadBalancer.dnsName, "DNS name of the load balancer");
    this.output("url", `https://${env.edge.domainName}`, "Public URL of the services");
  }
}
