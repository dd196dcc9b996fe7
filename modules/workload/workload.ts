import { Token } from "cdktf";
import { assertPort } from "./limits";

/** UID and GID the containers run as; the images create this user and it owns nothing else. */
export const CONTAINER_USER = 10001;

/** Image tag of the first rollout; the delivery pipeline sets every later one. */
export const INITIAL_IMAGE_TAG = "bootstrap";

/** Replicas and resources of one service, the same on ECS and on EKS. */
export interface WorkloadSizing {
  /** Desired tasks or pods at deploy time. */
  readonly replicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** CPU request in millicores (ECS: task CPU units are derived from it). */
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMiB: number;
  readonly memoryLimitMiB: number;
}

/** What every compute platform needs to run one service. */
export interface WorkloadDefinition {
  /** Service name, e.g. `user-service`; names the platform's objects (ECS service, Deployment, ...). */
  readonly name: string;
  /** Port the container listens on; probes and the load balancer reach it there. */
  readonly containerPort: number;
  /** ECR repository URL without a tag. */
  readonly repositoryUrl: string;
  /**
   * Image tag of the first rollout. The delivery pipeline sets the image of every release
   * afterwards, so Terraform never rolls an image back.
   * @default INITIAL_IMAGE_TAG
   */
  readonly initialImageTag?: string;
  /** Replicas, autoscaling range, CPU and memory requests and limits. */
  readonly sizing: WorkloadSizing;
  /**
   * Plain, non-secret environment variables. Names that look like credentials are rejected.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** `user-service` -> `UserService`, for construct ids derived from service names. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}

/** Names that look like credentials; they belong in secrets, never in plain environment variables. */
const SECRET_LIKE = /PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY/;
const ENVIRONMENT_NAME = /^[A-Z_][A-Z0-9_]*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A DNS-1123 label short enough to suffix IAM role and task family names. */
const SERVICE_NAME = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Throws unless `name` can name an ECS service, a Kubernetes object and an IAM role suffix. */
export function assertServiceName(owner: string, name: string): void {
  if (!SERVICE_NAME.test(name)) {
    throw new Error(
      `${owner}: service name must be lower-case letters, digits and hyphens (at most 40, starting with a letter), got "${name}"`,
    );
  }
}

/** Throws when the sizing cannot be scheduled: replicas outside min..max, or limits below requests. */
export function assertSizing(owner: string, sizing: WorkloadSizing): void {
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

function assertEnvironmentNames(owner: string, key: string, names: readonly string[]): void {
  const invalid = names.find((n) => !ENVIRONMENT_NAME.test(n));
  if (invalid !== undefined) {
    throw new Error(
      `${owner}: ${key} names must be upper-case letters, digits and underscores, got "${invalid}"`,
    );
  }
}

/**
 * Checks one workload before anything is created: port, sizing, variable names, no credential in
 * plain variables, no name both secret and plain, a Docker tag. `secretsKey` names the prop that
 * holds the secret variables (`secrets` on ECS, `secretReferences` on Kubernetes) in the messages.
 */
export function validateWorkload(
  owner: string,
  workload: WorkloadDefinition,
  secretsKey: string,
  secretNames: readonly string[],
): void {
  const environment = Object.keys(workload.environment ?? {});
  const initialImageTag = workload.initialImageTag ?? INITIAL_IMAGE_TAG;
  assertPort(owner, "containerPort", workload.containerPort);
  assertSizing(owner, workload.sizing);
  assertEnvironmentNames(owner, secretsKey, secretNames);
  assertEnvironmentNames(owner, "environment", environment);
  const suspicious = environment.find((n) => SECRET_LIKE.test(n));
  if (suspicious !== undefined) {
    throw new Error(
      `${owner}: environment variable "${suspicious}" looks like a credential; pass it through secrets instead`,
    );
  }
  const both = environment.find((name) => secretNames.includes(name));
  if (both !== undefined) {
    throw new Error(
      `${owner}: ${both} is both a secret and a plain environment variable; keep it in ${secretsKey} only`,
    );
  }
  if (!Token.isUnresolved(initialImageTag) && !DOCKER_TAG.test(initialImageTag)) {
    throw new Error(`${owner}: initialImageTag must be a Docker tag, got "${initialImageTag}"`);
  }
}

/** Throws unless there is at least one workload and every name is valid and unique. */
export function validateWorkloadNames(owner: string, workloads: readonly { readonly name: string }[]): void {
  if (workloads.length === 0) throw new Error(`${owner}: services must name at least one service`);
  const seen = new Set<string>();
  for (const { name } of workloads) {
    assertServiceName(owner, name);
    if (seen.has(name)) throw new Error(`${owner}: service "${name}" is defined twice`);
    seen.add(name);
  }
}

/** Plain environment variables in a stable order, as containers list them. */
export function sortedEnvironment(environment: Readonly<Record<string, string>> = {}) {
  return Object.entries(environment)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => ({ name, value }));
}
