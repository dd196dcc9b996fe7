import { describe, expect, it } from "vitest";
import { resourcesOf, synthesizer } from "../testing/synth";
import { PlatformSecurityGroups, type PlatformSecurityGroupsProps } from "./security-groups";

const minimal: PlatformSecurityGroupsProps = {
  name: "t",
  vpcId: "vpc-1",
  vpcCidr: "10.0.0.0/16",
  targetPorts: [{ from: 8081, to: 8081 }],
};
const build = synthesizer(PlatformSecurityGroups, "Groups", minimal);

describe("PlatformSecurityGroups", () => {
  it("When built, then the internet reaches only the load balancer on 80 and 443, and the services only from it", () => {
    const stack = build();
    const ingress = resourcesOf(stack, "aws_vpc_security_group_ingress_rule");
    expect(
      ingress
        .filter((r) => r.cidr_ipv4 === "0.0.0.0/0")
        .map((r) => r.from_port)
        .sort(),
    ).toEqual([443, 80]);
    const servicesIn = ingress.filter((r) => r.referenced_security_group_id);
    expect(servicesIn).toEqual([expect.objectContaining({ from_port: 8081, to_port: 8081 })]);
  });

  it("When built with defaults, then services reach PostgreSQL and MSK inside the VPC and 443/587 outside", () => {
    const egress = resourcesOf(build(), "aws_vpc_security_group_egress_rule").filter(
      (r) => !r.referenced_security_group_id,
    );
    expect(egress.map((r) => `${r.from_port} ${r.cidr_ipv4}`).sort()).toEqual([
      "443 0.0.0.0/0",
      "5432 10.0.0.0/16",
      "587 0.0.0.0/0",
      "9098 10.0.0.0/16",
    ]);
  });

  it.each([
    [{ targetPorts: [] }, "PlatformSecurityGroups t: targetPorts must not be empty"],
    [{ targetPorts: [{ from: 9000, to: 8000 }] }, "PlatformSecurityGroups t: invalid port range 9000-8000"],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
