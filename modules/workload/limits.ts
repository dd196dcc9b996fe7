import { Token } from "cdktf";

/** Retention values CloudWatch Logs accepts (0, "never expire", is deliberately left out). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Ports Kubernetes allocates NodePorts from. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** An IPv4 CIDR such as 10.30.0.0/16. */
export const IPV4_CIDR =
  /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12]\d|3[0-2])$/;

/** Throws unless `days` is a CloudWatch Logs retention value. */
export function assertLogRetention(owner: string, days: number): void {
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new Error(
      `${owner}: logRetentionDays must be a CloudWatch Logs retention value (${LOG_RETENTION_DAYS.join(", ")}), got ${days}`,
    );
  }
}

/** Throws unless `port` is a TCP port (tokens are skipped). */
export function assertPort(owner: string, key: string, port: number, min = 1, max = 65535): void {
  if (Token.isUnresolved(port)) return;
  if (!Number.isInteger(port) || port < min || port > max) {
    throw new Error(`${owner}: ${key} must be an integer from ${min} to ${max}, got ${port}`);
  }
}

/** Throws unless `port` is in the Kubernetes NodePort range. */
export function assertNodePort(owner: string, port: number): void {
  assertPort(owner, "nodePort", port, NODE_PORT_RANGE.min, NODE_PORT_RANGE.max);
}

/** Throws unless the subnets span at least two availability zones (one subnet per zone). */
export function assertTwoZones(owner: string, key: string, subnetIds: readonly string[]): void {
  if (subnetIds.length < 2) {
    throw new Error(`${owner}: ${key} must span at least 2 AZs, got ${subnetIds.length} subnet(s)`);
  }
}

/** Throws unless `percent` is a target utilisation autoscaling can hold. */
/** Fails unless `percent` is a memory utilisation target autoscaling can hold (10 to 95). */
export function assertMemoryTarget(owner: string, percent: number): void {
  if (!(percent >= 10 && percent <= 95)) {
    throw new Error(`${owner}: memoryTargetPercent must be from 10 to 95, got ${percent}`);
  }
}

export function assertCpuTarget(owner: string, percent: number): void {
  if (!(percent >= 10 && percent <= 90)) {
    throw new Error(`${owner}: cpuTargetPercent must be from 10 to 90, got ${percent}`);
  }
}
