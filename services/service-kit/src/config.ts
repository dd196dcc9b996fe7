import { z } from "zod";
import type { KafkaAuthentication } from "./messaging";

/** Raised when the environment does not satisfy a service's config schema; names each bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/**
 * How a stopping instance drains: one setting for the kit and the platform modules (ECS and EKS read
 * it through the package subpath `@blueprint/service-kit/config`). The instance keeps serving for
 * `delaySeconds` while the load balancer (and on EKS kube-proxy) stop sending it new requests: the
 * preStop sleep on EKS, SHUTDOWN_DELAY_MS on ECS. It then finishes its work within `timeoutSeconds`
 * (SHUTDOWN_TIMEOUT_MS), and the platform kills it only after `gracePeriodSeconds`, which covers both.
 */
export const DRAIN = {
  delaySeconds: 15,
  timeoutSeconds: 10,
  gracePeriodSeconds: 15 + 10 + 5,
} as const;

/** The load balancer closes connections idle this long; the ALB module sets it (the ALB's default). */
export const LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = 60;

/**
 * The service keeps idle keep-alive connections open longer than the load balancer does, so the
 * load balancer never sends a request on a connection the service is closing (a 502). Node's
 * default is 5 s. The headers timeout must exceed it for the keep-alive timeout to apply.
 */
export const HTTP_TIMEOUTS = {
  keepAliveMs: (LOAD_BALANCER_IDLE_TIMEOUT_SECONDS + 5) * 1000,
  headersMs: (LOAD_BALANCER_IDLE_TIMEOUT_SECONDS + 6) * 1000,
} as const;

const port = z.coerce.number().int().min(1).max(65535);
const milliseconds = z.coerce.number().int().min(0);

/** Settings every service shares. Secrets (PGPASSWORD) have no default. */
export const baseConfigSchema = z.object({
  SERVICE_NAME: z.string().min(1),
  /** HTTP port; 0 picks a free one (tests). */
  PORT: z.coerce.number().int().min(0).max(65535),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PGHOST: z.string().min(1).default("127.0.0.1"),
  PGPORT: port.default(5432),
  PGDATABASE: z.string().min(1).default("blueprint"),
  PGUSER: z.string().min(1),
  PGPASSWORD: z.string().min(1),
  /**
   * `verify-full` (default): TLS, and the server certificate must chain to the RDS CAs (or
   * PGSSLROOTCERT) and name PGHOST. `require` encrypts without verifying; `disable` is for the
   * local PostgreSQL, which has no TLS.
   */
  PGSSLMODE: z.enum(["disable", "require", "verify-full"]).default("verify-full"),
  /** A PEM file of CAs to trust instead of the RDS bundle the image carries (a PostgreSQL not in RDS). */
  PGSSLROOTCERT: z.string().min(1).optional(),
  PG_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  /** How long a query may go unanswered before it fails (see `createPool`); the statement limit is derived from it. */
  PG_QUERY_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default("127.0.0.1:9092")
    .transform((value) => value.split(",").map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "each broker must be host:port"))),
  /** Prefix for every topic and consumer group, to share one cluster between isolated copies (tests). */
  KAFKA_NAMESPACE: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, "letters, digits, '.', '_' and '-' only")
    .default(""),
  /** `aws-msk-iam` in AWS (TLS + IAM-signed SASL tokens, MSK's only client authentication here). */
  KAFKA_AUTH: z.enum(["none", "aws-msk-iam"]).default("none"),
  /** Region of the MSK cluster; required with KAFKA_AUTH=aws-msk-iam. */
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region such as eu-west-1")
    .optional(),
  /** Largest accepted request body; bigger ones get 413. */
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/, "a size such as 100kb")
    .default("100kb"),
  /** Run database migrations before listening (otherwise run the service's migrate command first). */
  MIGRATE_ON_START: z.stringbool().default(true),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  OUTBOX_POLL_MS: milliseconds.min(5).default(25),
  OUTBOX_LINGER_MS: milliseconds.max(1_000).default(5),
  OUTBOX_NOTIFY: z.stringbool().default(false),
  OUTBOX_RETENTION_MINUTES: z.coerce.number().int().min(1).default(60),
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  CONSUMER_BACKOFF_BASE_MS: milliseconds.default(200),
  CONSUMER_BACKOFF_MAX_MS: milliseconds.default(10_000),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** Time between turning /ready to 503 and closing the listener, for load balancers to notice. */
  SHUTDOWN_DELAY_MS: milliseconds.default(0),
  /** Whole drain (HTTP, consumers, outbox, pool) must fit in this; after it the process exits 1. */
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(DRAIN.timeoutSeconds * 1000),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Hosts an `http:` issuer or JWKS URL may name: the machine itself (the local stack, tests). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A URL that is https, or http to the loopback interface only: keys and issuers are never trusted over plain HTTP. */
const trustedUrl = z.url().refine((value) => {
  const url = new URL(value);
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}, "must be an https URL (http only to localhost)");

/** Inline public keys: a JSON Web Key Set whose keys hold no private members. */
const inlineJwks = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be JSON: a JSON Web Key Set such as {"keys":[...]}' });
      return z.NEVER;
    }
  })
  .pipe(
    z.object({
      keys: z
        .array(
          z
            .looseObject({ kty: z.enum(["RSA", "EC"]), kid: z.string().min(1) })
            .refine((key) => !("d" in key), "holds a private key member (d); give public keys only"),
        )
        .min(1, "must hold at least one key"),
    }),
  );

/**
 * How services authenticate callers (JWT bearer tokens). Separate from the base settings so that
 * the migrate command, which serves no requests, does not need them. No defaults: a service without
 * an issuer and audience does not start.
 */
export const authConfigSchema = z
  .object({
    /** The `iss` every token must carry; the JWKS is found under it unless AUTH_JWKS_URL or AUTH_JWKS says otherwise. */
    AUTH_ISSUER: trustedUrl,
    /** This API's identifier: the `aud` of standard tokens, the scope prefix of Cognito access tokens. */
    AUTH_AUDIENCE: z
      .string()
      .min(1)
      .regex(/^[^\s]+$/, "no spaces"),
    /** Where the issuer publishes its public keys. @default `<AUTH_ISSUER>/.well-known/jwks.json` */
    AUTH_JWKS_URL: trustedUrl.optional(),
    /** The issuer's public keys inline, for an issuer with no JWKS endpoint (the local development key). */
    AUTH_JWKS: inlineJwks.optional(),
    /** Cognito app clients whose access tokens are for this API even without one of its scopes (owner access). */
    AUTH_CLIENT_IDS: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((id) => id.trim())
          .filter((id) => id.length > 0),
      ),
    /** Leeway for `exp` and `nbf` between the issuer's clock and ours. */
    AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    /** Least time between two JWKS fetches a token with an unknown `kid` triggers (protects the issuer). */
    AUTH_JWKS_COOLDOWN_MS: milliseconds.max(600_000).default(30_000),
  })
  .superRefine((config, ctx) => {
    if (config.AUTH_JWKS !== undefined && config.AUTH_JWKS_URL !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_JWKS"],
        message: "set either AUTH_JWKS (inline keys) or AUTH_JWKS_URL, not both",
      });
    }
  });

export type AuthConfig = z.infer<typeof authConfigSchema>;

/**
 * Parses `env` with `schema`. On failure, throws a ConfigError listing every variable that is
 * missing or invalid, with what was received, so start-up stops with an actionable message.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(root)";
    const received = env[String(issue.path[0])];
    const shown =
      received === undefined
        ? "missing"
        : /PASSWORD|SECRET|TOKEN/.test(name)
          ? "(set, hidden)"
          : `"${received}"`;
    return `${name}: ${issue.message} (got ${shown})`;
  });
  throw new ConfigError(issues);
}

/** How the service authenticates to Kafka, from its config; fails naming AWS_REGION when it is needed and missing. */
export function kafkaAuthentication(config: BaseConfig): KafkaAuthentication {
  if (config.KAFKA_AUTH === "none") return { kind: "none" };
  if (!config.AWS_REGION)
    throw new ConfigError(["AWS_REGION: required when KAFKA_AUTH is aws-msk-iam (got missing)"]);
  return { kind: "aws-msk-iam", region: config.AWS_REGION };
}
