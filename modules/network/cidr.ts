/** Splits an IPv4 CIDR like Terraform's cidrsubnet(prefix, newbits, netnum), computed at synth time. */
export function cidrSubnet(cidr: string, newBits: number, netNum: number): string {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!match) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const base = match.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
  const prefix = Number(match[5]) + newBits;
  if (prefix > 28)
    throw new Error(
      `${cidr} cannot be split by ${newBits} more bits (subnets would be /${prefix}, smaller than /28)`,
    );
  if (netNum < 0 || netNum >= 2 ** newBits)
    throw new Error(`network number ${netNum} does not fit in ${newBits} bits`);
  const start = base + netNum * 2 ** (32 - prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/**
 * Subnet plan of a VPC: private subnets take a quarter of the range each (room for pods and tasks);
 * the last quarter holds the public and isolated subnets, an eighth of that quarter each.
 */
export function subnetPlan(
  vpcCidr: string,
  azIndex: number,
): { public: string; private: string; isolated: string } {
  return {
    private: cidrSubnet(vpcCidr, 2, azIndex),
    public: cidrSubnet(vpcCidr, 5, 24 + azIndex),
    isolated: cidrSubnet(vpcCidr, 5, 28 + azIndex),
  };
}
