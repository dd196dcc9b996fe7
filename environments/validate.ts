import { CATALOG } from "@blueprint/service-kit/catalog";
import { z } from "zod";
import type { EnvironmentConfig } from "./types";

/** One or more environments are invalid; the message names environment, key, value and what is allowed. */
export class EnvironmentValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid environment configuration:\n  ${problems.join("\n  ")}`);
    this.name = "EnvironmentValidationError";
  }
}

const RDS_RETENTION_PI = [7, ...Array.from({ length: 23 }, (_, i) => (i + 1) * 31), 731];

function parseCidr(cidr: string): { start: number; end: number; prefix: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const ip = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (ip % size !== 0) return undefined;
  return { start: ip, end: ip + size - 1, prefix };
}

function isPrivate(cidr: string): boolean {
  const range = parseCidr(cidr);
  if (!range) return false;
  const within = (base: string) => {
    const b = parseCidr(base);
    return b !== undefined && range.start >= b.start && range.end <= b.end;
  };
  return within("10.0.0.0/8") || within("172.16.0.0/12") || within("192.168.0.0/16");
}

const httpsUrl = z
  .url({ protocol: /^https$/, error: "an https URL" })
  .refine(
    (v) => !v.endsWith("/") && !/[?#]/.test(v),
    "an https URL without a trailing slash, query or fragment",
  );

const authSchema = z.discriminatedUnion(
  "provider",
  [
    z.object({ provider: z.literal("cognito") }).strict(),
    z
      .object({
        provider: z.literal("external"),
        issuer: httpsUrl,
        audience: z.string().regex(/^\S+$/, "a non-empty audience without spaces"),
        jwksUrl: z.url({ protocol: /^https$/, error: "an https URL" }).optional(),
      })
      .strict(),
  ],
  { error: '"cognito" (the stacks create a user pool) or "external" (with issuer and audience)' },
);

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, "an IPv4 CIDR such as 10.10.0.0/16");
const positive = z.number().int().positive();
const SAMPLE_RATIO = "a share of the requests from 0 to 1 (0.1 traces one in ten)";

const sizingSchema = z
  .object({
    replicas: positive,
    minReplicas: positive,
    maxReplicas: positive,
    cpuRequestMillicores: z.number().int().min(125).max(16_000),
    cpuLimitMillicores: z.number().int().min(125).max(16_000),
    memoryRequestMiB: z.number().int().min(128).max(120_000),
    memoryLimitMiB: z.number().int().min(128).max(120_000),
  })
  .superRefine((s, ctx) => {
    if (s.minReplicas > s.maxReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["minReplicas"],
        message: `at most maxReplicas (${s.maxReplicas})`,
      });
    }
    if (s.replicas < s.minReplicas || s.replicas > s.maxReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["replicas"],
        message: `between minReplicas and maxReplicas (${s.minReplicas}..${s.maxReplicas})`,
      });
    }
    if (s.cpuLimitMillicores < s.cpuRequestMillicores) {
      ctx.addIssue({
        code: "custom",
        path: ["cpuLimitMillicores"],
        message: `at least cpuRequestMillicores (${s.cpuRequestMillicores})`,
      });
    }
    if (s.memoryLimitMiB < s.memoryRequestMiB) {
      ctx.addIssue({
        code: "custom",
        path: ["memoryLimitMiB"],
        message: `at least memoryRequestMiB (${s.memoryRequestMiB})`,
      });
    }
  });

const serviceNames = Object.keys(CATALOG.services);

const environmentSchema = z
  .object({
    name: z.enum(["dev", "staging", "prod"]),
    profile: z.enum(["production", "non-production"]),
    accountId: z.string().regex(/^\d{12}$/, "a 12-digit AWS account id"),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region such as eu-west-1"),
    network: z.object({
      vpcCidr: z.string().superRefine((value, ctx) => {
        const range = parseCidr(value);
        const message = !range
          ? "an IPv4 CIDR such as 10.10.0.0/16"
          : range.prefix < 16 || range.prefix > 20
            ? "a prefix between /16 and /20"
            : !isPrivate(value)
              ? "a private (RFC 1918) range"
              : undefined;
        if (message) ctx.addIssue({ code: "custom", message });
      }),
      azCount: z.number().int().min(2, "2 or 3").max(3, "2 or 3"),
      natGateways: z.enum(["single", "perAz"]),
      interfaceEndpoints: z.boolean(),
    }),
    database: z.object({
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class such as db.t4g.medium"),
      allocatedStorageGiB: z.number().int().min(20, "20 to 65536").max(65_536, "20 to 65536"),
      maxAllocatedStorageGiB: z.number().int().max(65_536, "at most 65536"),
      backupRetentionDays: z.number().int().min(1, "1 to 35 (0 would disable backups)").max(35, "1 to 35"),
      multiAz: z.boolean(),
      deletionProtection: z.boolean(),
      finalSnapshot: z.boolean(),
      performanceInsightsRetentionDays: z
        .number()
        .int()
        .refine((v) => RDS_RETENTION_PI.includes(v), "7, a multiple of 31 up to 713, or 731"),
    }),
    kafka: z.object({
      brokerInstanceType: z
        .string()
        .regex(/^kafka\.[a-z0-9]+\.[a-z0-9]+$/, "an MSK broker type such as kafka.m7g.large"),
      brokerCount: z.number().int().min(2, "at least 2").max(30, "at most 30"),
      storagePerBrokerGiB: z.number().int().min(1, "1 to 16384").max(16_384, "1 to 16384"),
    }),
    compute: z.object({
      kind: z.enum(["ecs", "eks"]),
      eks: z
        .object({
          kubernetesVersion: z.string().regex(/^1\.\d{2}$/, "a Kubernetes minor version such as 1.33"),
          nodeInstanceTypes: z.array(z.string().min(1)).min(1, "at least one instance type"),
          nodeMin: z.number().int().min(1),
          nodeMax: z.number().int().min(1),
          nodeDesired: z.number().int().min(1),
          publicAccessCidrs: z.array(
            cidr.refine((v) => v !== "0.0.0.0/0", "not 0.0.0.0/0 (the API would be open to the internet)"),
          ),
          nodeAutoscaler: z
            .enum(["cluster-autoscaler", "karpenter"])
            .refine(
              (v) => v === "cluster-autoscaler",
              '"cluster-autoscaler": Karpenter nodes join no Auto Scaling group, so the ALB target groups attached to the node group would never reach them',
            ),
        })
        .optional(),
    }),
    services: z.record(z.string(), sizingSchema).superRefine((services, ctx) => {
      for (const name of serviceNames) {
        if (!(name in services))
          ctx.addIssue({ code: "custom", path: [name], message: "sizing for every service in the catalog" });
      }
      for (const name of Object.keys(services)) {
        if (!serviceNames.includes(name as never)) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `one of the catalog's services: ${serviceNames.join(", ")}`,
          });
        }
      }
    }),
    edge: z.object({
      domainName: z.string().regex(/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/, "a lower-case DNS name"),
      hostedZoneId: z
        .string()
        .regex(/^Z[A-Z0-9]+$/, "a Route 53 hosted zone id")
        .optional(),
      certificateArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, "an ACM certificate ARN")
        .optional(),
      waf: z.boolean(),
      deletionProtection: z.boolean(),
    }),
    autoscaling: z.object({
      cpuTargetPercent: z.number().int().min(10, "10 to 90").max(90, "10 to 90"),
      memoryTargetPercent: z.number().int().min(10, "10 to 95").max(95, "10 to 95"),
    }),
    observability: z.object({
      grafanaAuthentication: z.enum(["AWS_SSO", "SAML", "none"]),
      traceSampleRatio: z.number().min(0, SAMPLE_RATIO).max(1, SAMPLE_RATIO),
    }),
    disasterRecovery: z
      .object({
        region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region such as eu-central-1"),
        backupRetentionDays: z.number().int().min(1, "1 to 35").max(35, "1 to 35"),
      })
      .optional(),
    logRetentionDays: z
      .number()
      .int()
      .refine(
        (v) =>
          [
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
            3653,
          ].includes(v),
        "a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, ... 3653)",
      ),
    alerts: z.object({ emails: z.array(z.email("an e-mail address")).min(1, "at least one address") }),
    state: z.object({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name"),
      lockTable: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name"),
    }),
    githubRepository: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "owner/name of a GitHub repository"),
    githubOidcProvider: z
      .enum(["create", "existing"], '"create" (this bootstrap stack creates it) or "existing"')
      .optional(),
    auth: authSchema.optional(),
    tags: z.object({ owner: z.string().min(1), costCenter: z.string().min(1) }),
  })
  .strict()
  .superRefine((env, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    if (env.database.maxAllocatedStorageGiB < env.database.allocatedStorageGiB) {
      issue(
        ["database", "maxAllocatedStorageGiB"],
        `at least allocatedStorageGiB (${env.database.allocatedStorageGiB})`,
      );
    }
    if ([2, 3].includes(env.network.azCount) && env.kafka.brokerCount % env.network.azCount !== 0) {
      issue(
        ["kafka", "brokerCount"],
        `a multiple of network.azCount (${env.network.azCount}): MSK spreads brokers evenly over the AZs`,
      );
    }
    if (env.compute.kind === "eks" && !env.compute.eks) {
      issue(["compute", "eks"], "present when compute.kind is eks (Kubernetes version and node group)");
    }
    if (env.compute.kind === "ecs" && env.compute.eks) {
      issue(["compute", "eks"], "absent when compute.kind is ecs");
    }
    if (env.edge.hostedZoneId && env.edge.certificateArn) {
      issue(
        ["edge", "certificateArn"],
        "absent when edge.hostedZoneId is set (one source of the certificate)",
      );
    }
    const certificateRegion = env.edge.certificateArn?.split(":")[3];
    if (certificateRegion !== undefined && certificateRegion !== env.region) {
      issue(
        ["edge", "certificateArn"],
        `a certificate in the environment's region (${env.region}); an ALB cannot use one from another`,
      );
    }
    if (env.disasterRecovery && env.disasterRecovery.region === env.region) {
      issue(["disasterRecovery", "region"], `a region other than the environment's (${env.region})`);
    }
    // Seed 001: three brokers in every environment, so a broker can be patched while writes go on.
    if (env.kafka.brokerCount < 3) issue(["kafka", "brokerCount"], "at least 3");
    const eks = env.compute.eks;
    if (eks) {
      const capacity = nodeCapacity(eks.nodeInstanceTypes, eks.nodeMax);
      const demand = Object.values(env.services).reduce(
        (sum, s) => sum + s.maxReplicas * s.cpuRequestMillicores,
        0,
      );
      if (capacity !== undefined && demand > capacity) {
        issue(
          ["compute", "eks", "nodeMax"],
          `enough nodes for every service at maxReplicas: ${demand}m CPU requested, ${eks.nodeMax} x ${eks.nodeInstanceTypes[0]} hold about ${capacity}m after system pods`,
        );
      }
    }
    if (eks && (eks.nodeDesired < eks.nodeMin || eks.nodeDesired > eks.nodeMax)) {
      issue(
        ["compute", "eks", "nodeDesired"],
        `between nodeMin and nodeMax (${eks.nodeMin}..${eks.nodeMax})`,
      );
    }
    if (env.profile === "production") {
      const guard = (path: (string | number)[], ok: boolean, allowed: string) => {
        if (!ok) issue(path, `${allowed} for the production profile`);
      };
      guard(["database", "multiAz"], env.database.multiAz, "true");
      guard(["database", "deletionProtection"], env.database.deletionProtection, "true");
      guard(["database", "finalSnapshot"], env.database.finalSnapshot, "true");
      guard(["database", "backupRetentionDays"], env.database.backupRetentionDays >= 7, "at least 7");
      guard(["network", "natGateways"], env.network.natGateways === "perAz", '"perAz"');
      guard(["kafka", "brokerCount"], env.kafka.brokerCount >= 3, "at least 3");
      guard(["edge", "waf"], env.edge.waf, "true");
      guard(["edge", "deletionProtection"], env.edge.deletionProtection, "true");
      guard(
        ["disasterRecovery"],
        env.disasterRecovery !== undefined,
        "a second region (RPO under 15 minutes)",
      );
      for (const [name, s] of Object.entries(env.services)) {
        guard(["services", name, "minReplicas"], s.minReplicas >= 2, "at least 2");
      }
    }
  });

/** vCPUs by EC2 instance size (m, c, r, and other fixed-performance families). */
const VCPUS_BY_SIZE: Readonly<Record<string, number>> = {
  medium: 1,
  large: 2,
  xlarge: 4,
  "2xlarge": 8,
  "4xlarge": 16,
  "8xlarge": 32,
  "12xlarge": 48,
  "16xlarge": 64,
};

/** CPU the kubelet, the node's daemons and the cluster's DaemonSets keep on each node. */
const NODE_RESERVED_MILLICORES = 400;

/**
 * CPU millicores `nodeMax` nodes of the smallest listed type leave for the services, or undefined
 * when a size is unknown (burstable `t` types too: their baseline is far below their vCPUs).
 */
function nodeCapacity(instanceTypes: readonly string[], nodeMax: number): number | undefined {
  const sizes = instanceTypes.map((type) => {
    const [family, size] = type.split(".");
    return family?.startsWith("t") ? undefined : VCPUS_BY_SIZE[size ?? ""];
  });
  if (sizes.some((v) => v === undefined)) return undefined;
  const smallest = Math.min(...(sizes as number[]));
  return nodeMax * (smallest * 1000 - NODE_RESERVED_MILLICORES);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, key) => (node && typeof node === "object" ? (node as never)[key] : undefined),
    root,
  );
}

function describe(value: unknown): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}

/** Problems of one environment, each as `<env>: <key> is <value>; allowed: <rule>`. */
function problemsOf(env: unknown, label: string): string[] {
  const result = environmentSchema.safeParse(env);
  if (result.success) return [];
  return result.error.issues.flatMap((i) => {
    if (i.code === "unrecognized_keys") {
      return i.keys.map(
        (key) =>
          `${label}: ${[...i.path, key].join(".")} is ${describe(valueAt(env, [...i.path, key]))}; allowed: nothing, it is not a setting of EnvironmentConfig`,
      );
    }
    return [
      `${label}: ${i.path.join(".") || "(root)"} is ${describe(valueAt(env, i.path))}; allowed: ${i.message}`,
    ];
  });
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x !== undefined && y !== undefined && x.start <= y.end && y.start <= x.end;
}

/**
 * Validates every environment and the rules across them (unique names, non-overlapping VPC CIDRs,
 * distinct state buckets). Throws one error listing all problems; returns the environments otherwise.
 */
export function validateEnvironments(envs: readonly unknown[]): EnvironmentConfig[] {
  const labelOf = (env: unknown, i: number) => {
    const name = (env as { name?: unknown })?.name;
    return `environment "${typeof name === "string" ? name : `#${i + 1}`}"`;
  };
  const problems = envs.flatMap((env, i) => problemsOf(env, labelOf(env, i)));
  if (problems.length === 0) {
    const valid = envs as EnvironmentConfig[];
    valid.forEach((a, i) => {
      for (const b of valid.slice(i + 1)) {
        if (a.name === b.name)
          problems.push(`environment "${a.name}": name is defined twice; allowed: unique names`);
        if (overlaps(a.network.vpcCidr, b.network.vpcCidr)) {
          problems.push(
            `environment "${b.name}": network.vpcCidr is "${b.network.vpcCidr}"; allowed: a range not overlapping environment "${a.name}" (${a.network.vpcCidr}), so VPCs can be peered`,
          );
        }
        if (
          a.accountId === b.accountId &&
          (a.githubOidcProvider ?? "create") === "create" &&
          (b.githubOidcProvider ?? "create") === "create"
        ) {
          problems.push(
            `environment "${b.name}": githubOidcProvider is "create"; allowed: "existing", because environment "${a.name}" creates the GitHub OIDC provider of account ${a.accountId} (IAM allows one per account)`,
          );
        }
        if (a.state.bucket === b.state.bucket && a.accountId !== b.accountId) {
          problems.push(
            `environment "${b.name}": state.bucket is "${b.state.bucket}"; allowed: a bucket in its own account, not "${a.name}"'s`,
          );
        }
      }
    });
  }
  if (problems.length > 0) throw new EnvironmentValidationError(problems);
  return envs as EnvironmentConfig[];
}
