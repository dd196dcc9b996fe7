import { Token } from "cdktf";

/** A Fargate task size: CPU units (1024 = 1 vCPU) and memory in MiB. */
export interface FargateTaskSize {
  readonly cpu: number;
  readonly memoryMiB: number;
}

function steps(from: number, to: number, step: number): number[] {
  return Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
}

/** The CPU and memory combinations Fargate accepts for Linux tasks, smallest first. */
export const FARGATE_TASK_SIZES: readonly { readonly cpu: number; readonly memoryMiB: readonly number[] }[] =
  [
    { cpu: 256, memoryMiB: [512, 1024, 2048] },
    { cpu: 512, memoryMiB: steps(1024, 4096, 1024) },
    { cpu: 1024, memoryMiB: steps(2048, 8192, 1024) },
    { cpu: 2048, memoryMiB: steps(4096, 16384, 1024) },
    { cpu: 4096, memoryMiB: steps(8192, 30720, 1024) },
    { cpu: 8192, memoryMiB: steps(16384, 61440, 4096) },
    { cpu: 16384, memoryMiB: steps(32768, 122880, 8192) },
  ];

/** Millicores (Kubernetes units) to ECS CPU units, rounded up: 1000m = 1 vCPU = 1024 units. */
export function cpuUnits(millicores: number): number {
  return Math.ceil((millicores * 1024) / 1000);
}

/**
 * The cheapest Fargate task size holding at least `cpu` units and `memoryMiB`: the smallest CPU
 * tier whose memory range reaches the need, then the smallest memory step in it.
 * `undefined` when no combination fits.
 */
export function fargateTaskSize(cpu: number, memoryMiB: number): FargateTaskSize | undefined {
  for (const tier of FARGATE_TASK_SIZES) {
    if (tier.cpu < cpu) continue;
    const memory = tier.memoryMiB.find((m) => m >= memoryMiB);
    if (memory !== undefined) return { cpu: tier.cpu, memoryMiB: memory };
  }
  return undefined;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const JSON_KEY_SUFFIX = /^:[A-Za-z0-9_.-]*:[A-Za-z0-9_-]*:[A-Za-z0-9-]*$/;

/**
 * The secret ARN a container `valueFrom` reads, without its optional
 * `:json-key:version-stage:version-id` suffix, for the execution role's GetSecretValue resource.
 * A token followed by a literal suffix (`${secret.arn}:password::`) is understood too.
 */
export function secretArnOf(owner: string, envName: string, valueFrom: string): string {
  const invalid = () =>
    new Error(
      `${owner}: secret ${envName} must be a Secrets Manager ARN, optionally followed by ":json-key::", got "${valueFrom}"`,
    );
  if (Token.isUnresolved(valueFrom)) {
    const tokenEnd = valueFrom.lastIndexOf("}") + 1;
    const suffix = valueFrom.slice(tokenEnd);
    if (suffix === "") return valueFrom;
    if (JSON_KEY_SUFFIX.test(suffix)) return valueFrom.slice(0, tokenEnd);
    throw invalid();
  }
  const parts = valueFrom.split(":");
  const arn = parts.slice(0, 7).join(":");
  const suffix = parts.length > 7 ? `:${parts.slice(7).join(":")}` : "";
  if (!SECRET_ARN.test(arn) || (suffix !== "" && !JSON_KEY_SUFFIX.test(suffix))) throw invalid();
  return arn;
}
