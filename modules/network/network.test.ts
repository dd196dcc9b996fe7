import { describe, expect, it } from "vitest";
import { onlyResource, resourcesOf, synthesizer } from "../testing/synth";
import { cidrSubnet, subnetPlan } from "./cidr";
import { Network, type NetworkProps } from "./network";

const minimal: NetworkProps = {
  name: "t",
  vpcCidr: "10.0.0.0/16",
  region: "eu-west-1",
  azCount: 2,
  logKmsKeyArn: "arn:kms",
};
const build = synthesizer(Network, "Network", minimal);

describe("Network", () => {
  it("When built with minimal props, then it spreads public, private and isolated subnets over the AZs with NAT per AZ", () => {
    const stack = build();
    const subnets = resourcesOf(stack, "aws_subnet");
    const byTier = (tier: string) =>
      subnets
        .filter((s) => (s.tags as Record<string, string>).Tier === tier)
        .map((s) => `${s.availability_zone} ${s.cidr_block}`)
        .sort();
    expect(byTier("private")).toEqual(["eu-west-1a 10.0.0.0/18", "eu-west-1b 10.0.64.0/18"]);
    expect(byTier("public")).toEqual(["eu-west-1a 10.0.192.0/21", "eu-west-1b 10.0.200.0/21"]);
    expect(byTier("isolated")).toEqual(["eu-west-1a 10.0.224.0/21", "eu-west-1b 10.0.232.0/21"]);
    expect(resourcesOf(stack, "aws_nat_gateway")).toHaveLength(2);
    expect(resourcesOf(stack, "aws_vpc_endpoint")).toEqual([
      expect.objectContaining({ vpc_endpoint_type: "Gateway", service_name: "com.amazonaws.eu-west-1.s3" }),
    ]);
  });

  it("When natGateways is single, then one NAT gateway serves every private subnet", () => {
    const stack = build({ natGateways: "single", azCount: 3 });
    expect(resourcesOf(stack, "aws_nat_gateway")).toHaveLength(1);
    const natRoutes = resourcesOf(stack, "aws_route").filter((r) => r.nat_gateway_id);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(1);
    expect(natRoutes).toHaveLength(3);
  });

  it("When built, then isolated subnets have no route to the internet", () => {
    const stack = build();
    const routes = resourcesOf(stack, "aws_route");
    expect(routes).toHaveLength(3);
    const isolatedTable = Object.keys(stack.resource.aws_route_table ?? {}).find((id) =>
      id.includes("Isolated"),
    );
    expect(routes.some((r) => String(r.route_table_id).includes(isolatedTable ?? "none"))).toBe(false);
  });

  it("When built, then flow logs of all traffic go to an encrypted log group kept 90 days by default", () => {
    const stack = build();
    expect(onlyResource(stack, "aws_flow_log")).toMatchObject({
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
    });
    expect(onlyResource(stack, "aws_cloudwatch_log_group")).toMatchObject({
      retention_in_days: 90,
      kms_key_id: "arn:kms",
    });
  });

  it("When built, then the default security group is adopted with no rules", () => {
    const group = onlyResource(build(), "aws_default_security_group");
    expect(group.ingress).toBeUndefined();
    expect(group.egress).toBeUndefined();
  });

  it("When interface endpoints are on, then each AWS API gets a private endpoint reachable on 443 from the VPC", () => {
    const stack = build({ interfaceEndpoints: true });
    const interfaces = resourcesOf(stack, "aws_vpc_endpoint").filter(
      (e) => e.vpc_endpoint_type === "Interface",
    );
    expect(interfaces.map((e) => e.service_name).sort()).toEqual(
      ["ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager", "sts"].map(
        (s) => `com.amazonaws.eu-west-1.${s}`,
      ),
    );
    expect(onlyResource(stack, "aws_vpc_security_group_ingress_rule")).toMatchObject({
      from_port: 443,
      cidr_ipv4: "10.0.0.0/16",
    });
  });

  it.each([
    [{ azCount: 4 }, "Network t: azCount must be 2 or 3, got 4"],
    [
      { vpcCidr: "10.0.0.0/24" },
      'Network t: vpcCidr must be an IPv4 CIDR from /16 to /20, got "10.0.0.0/24"',
    ],
    [
      { availabilityZones: ["eu-west-1a"] },
      "Network t: availabilityZones must list azCount (2) zones, got 1",
    ],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it("When a CIDR is split, then the arithmetic matches Terraform's cidrsubnet", () => {
    expect(cidrSubnet("10.20.0.0/16", 2, 3)).toBe("10.20.192.0/18");
    expect(subnetPlan("10.30.0.0/20", 2)).toEqual({
      private: "10.30.8.0/22",
      public: "10.30.13.0/25",
      isolated: "10.30.15.0/25",
    });
    expect(() => cidrSubnet("10.0.0.0/26", 4, 0)).toThrow("10.0.0.0/26 cannot be split by 4 more bits");
  });
});
