import { Token } from "cdktf";
import type { ServiceSizing } from "../../environments/types";

/** Retention values CloudWatch Logs accepts (0, "never expire", is deliberately left out). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Throws unless `days` is a CloudWatch Logs retention value. */
export function assertLogRetention(owner: string, days: number): void {
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new Error(
      `${owner}: logRetentionDays must be a CloudWatch Logs retention value (${LOG_RETENTION_DAYS.join(", ")}), got ${days}`,
    );
  }
}

/** Throws unless `name` can name an ECS service, a Kubernetes object and an IAM role suffix (DNS-1123 label). */
export function assertServiceName(owner: string, name: string): void {
  if (!/^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name)) {
    throw new Error(
      `${owner}: service name must be lower-case letters, digits and hyphens (at most 40, starting with a letter), got "${name}"`,
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

/** Throws when the sizing cannot be scheduled: replicas outside min..max, or limits below requests. */
export function assertSizing(owner: string, sizing: ServiceSizing): void {
  const { replicas, minReplicas, maxReplicas } = sizing;
  if (!Number.isInteger(minReplicas) || minReplicas < 1) {
    throw new Error(`${owner}: minReplicas must be an integer of at least 1, got ${minReplicas}`);
  }
  if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
    throw new Error(
      `${owner}: maxReplicas must be an integer of at least minReplicas (${minReplicas}), got ${maxReplicas}`,
    );
  }
  if (!Number.isInteger(replicas) || replicas < minReplicas || replicas > maxReplicas) {
    throw new Error(
      `${owner}: replicas must be between minReplicas and maxReplicas (${minReplicas}..${maxReplicas}), got ${replicas}`,
    );
  }
  for (const [request, limit, unit] of [
    ["cpuRequestMillicores", "cpuLimitMillicores", "millicores"],
    ["memoryRequestMiB", "memoryLimitMiB", "MiB"],
  ] as const) {
    if (!(sizing[request] > 0))
      throw new Error(`${owner}: ${request} must be positive, got ${sizing[request]}`);
    if (sizing[limit] < sizing[request]) {
      throw new Error(
        `${owner}: ${limit} must be at least ${request} (${sizing[request]} ${unit}), got ${sizing[limit]}`,
      );
    }
  }
}

/** Throws unless every key is a POSIX environment variable name. */
export function assertEnvironmentNames(owner: string, key: string, names: readonly string[]): void {
  const invalid = names.find((n) => !/^[A-Z_][A-Z0-9_]*$/.test(n));
  if (invalid !== undefined) {
    throw new Error(
      `${owner}: ${key} names must be upper-case letters, digits and underscores, got "${invalid}"`,
    );
  }
}

/** Names that look like credentials; they belong in secrets, never in plain environment variables. */
const SECRET_LIKE = /PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY/;

/** Throws when a plain environment variable looks like a credential. */
export function assertNoSecretLikeEnvironment(owner: string, names: readonly string[]): void {
  const suspicious = names.find((n) => SECRET_LIKE.test(n));
  if (suspicious !== undefined) {
    throw new Error(
      `${owner}: environment variable "${suspicious}" looks like a credential; pass it through secrets instead`,
    );
  }
}

/** `user-service` -> `UserService`, for construct ids derived from literal service names. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}
