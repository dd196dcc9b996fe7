import path from "node:path";

/**
 * `local`: the tooling installs, starts and stops its own PostgreSQL, Kafka and Prometheus.
 * `external`: it uses ones already running at the addresses below and never starts or stops them.
 */
export type DependencyMode = "local" | "external";

/** Where PostgreSQL listens and the superuser that provisions the database, roles and schemas. */
export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly superuser: string;
  readonly superuserPassword: string;
}

/** Where and on which ports the dependencies run. Read once from the environment. */
export interface LocalSettings {
  readonly mode: DependencyMode;
  readonly repoRoot: string;
  readonly localDir: string;
  readonly runDir: string;
  readonly logDir: string;
  readonly cacheDir: string;
  /** The loopback address local instances and the native stack listen on. */
  readonly host: string;
  readonly postgresPort: number;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly kafkaVersion: string;
  readonly kafkaHeapMb: number;
  readonly prometheusPort: number;
  /** Where the local Alertmanager listens (ALERTMANAGER_PORT). */
  readonly alertmanagerPort: number;
  /** The mail catcher's SMTP port the local Alertmanager delivers to (SMTP_PORT, as `npm run stack:up`). */
  readonly smtpPort: number;
  /** Where the local Zipkin server listens (ZIPKIN_PORT). */
  readonly zipkinPort: number;
  /** The `io.zipkin:zipkin-server` version fetched from Maven Central. */
  readonly zipkinVersion: string;
  readonly zipkinHeapMb: number;
  /** What clients connect to, in either mode. */
  readonly postgres: PostgresEndpoint;
  readonly kafkaBrokers: readonly string[];
  readonly prometheusUrl: string;
  /** The Zipkin server's base URL: spans go to `/api/v2/spans`, the UI is `/zipkin/`. */
  readonly zipkinUrl: string;
  /** How long external mode waits for a dependency to answer before giving up. */
  readonly externalWaitSeconds: number;
  /** External-mode variables set in the environment that local mode does not read. */
  readonly ignoredVariables: readonly string[];
}

/** Read only with BLUEPRINT_DEPS=external; local instances have fixed addresses and logins. */
const EXTERNAL_ONLY_VARIABLES = [
  "KAFKA_BROKERS",
  "PROMETHEUS_URL",
  "ZIPKIN_URL",
  "PGSUPERUSER",
  "PGSUPERPASSWORD",
];

/** Local superuser password; loopback only, and the compose stack's POSTGRES_PASSWORD. */
export const LOCAL_SUPERUSER_PASSWORD = "postgres";

export class SettingsError extends Error {}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new SettingsError(`${name} must be a TCP port between 1 and 65535, got "${raw}"`);
  }
  return value;
}

function integerAtLeast(env: NodeJS.ProcessEnv, name: string, fallback: number, minimum: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < minimum) {
    throw new SettingsError(`${name} must be an integer of at least ${minimum}, got "${raw}"`);
  }
  return value;
}

function mode(env: NodeJS.ProcessEnv): DependencyMode {
  const raw = env.BLUEPRINT_DEPS || "local";
  if (raw !== "local" && raw !== "external") {
    throw new SettingsError(`BLUEPRINT_DEPS must be "local" or "external", got "${raw}"`);
  }
  return raw;
}

/** `host:port,host:port`, each checked, so a typo fails here rather than as a Kafka timeout. */
function brokers(raw: string): string[] {
  const list = raw.split(",").map((b) => b.trim());
  const bad = list.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
  if (bad !== undefined) {
    throw new SettingsError(`KAFKA_BROKERS must be host:port[,host:port...], got "${raw}"`);
  }
  return list;
}

/** An http(s) base URL without a trailing slash, so paths such as `/-/ready` append cleanly. */
function httpUrl(name: string, raw: string, example: string): string {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    throw new SettingsError(`${name} must be an http(s) URL such as ${example}, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const repoRoot = path.resolve(__dirname, "../..");
  const localDir = path.resolve(env.BLUEPRINT_LOCAL_DIR ?? path.join(repoRoot, ".local"));
  const host = "127.0.0.1";
  const postgresPort = port(env, "PGPORT", 5432);
  const kafkaPort = port(env, "KAFKA_PORT", 9092);
  const prometheusPort = port(env, "PROMETHEUS_PORT", 9090);
  const zipkinPort = port(env, "ZIPKIN_PORT", 9411);
  const dependencyMode = mode(env);
  // Local instances always listen on loopback; only external mode reads the client-side variables,
  // whose defaults are the addresses docker-compose-local.yml publishes.
  const external = dependencyMode === "external";
  return {
    mode: dependencyMode,
    repoRoot,
    localDir,
    runDir: path.join(localDir, "run"),
    logDir: path.join(localDir, "logs"),
    cacheDir: path.resolve(env.BLUEPRINT_CACHE_DIR ?? path.join(localDir, "cache")),
    host,
    postgresPort,
    kafkaPort,
    kafkaControllerPort: port(env, "KAFKA_CONTROLLER_PORT", 9093),
    // Kafka 3.9 is the newest line whose protocol versions kafkajs 2.2 still speaks (4.x removed old ones).
    kafkaVersion: env.KAFKA_VERSION ?? "3.9.2",
    kafkaHeapMb: integerAtLeast(env, "KAFKA_HEAP_MB", 512, 256),
    prometheusPort,
    // Not 9093, Alertmanager's usual port: the local Kafka controller has it.
    alertmanagerPort: port(env, "ALERTMANAGER_PORT", 9095),
    smtpPort: port(env, "SMTP_PORT", 1025),
    postgres: {
      host: (external && env.PGHOST) || host,
      port: postgresPort,
      superuser: (external && env.PGSUPERUSER) || "postgres",
      superuserPassword: (external && env.PGSUPERPASSWORD) || LOCAL_SUPERUSER_PASSWORD,
    },
    kafkaBrokers: external && env.KAFKA_BROKERS ? brokers(env.KAFKA_BROKERS) : [`${host}:${kafkaPort}`],
    prometheusUrl:
      external && env.PROMETHEUS_URL
        ? httpUrl("PROMETHEUS_URL", env.PROMETHEUS_URL, "http://127.0.0.1:9090")
        : `http://${host}:${prometheusPort}`,
    zipkinPort,
    // 3.5.1 starts in about 15 s with a 256 MB heap; in-memory storage keeps the last traces only.
    zipkinVersion: env.ZIPKIN_VERSION ?? "3.5.1",
    zipkinHeapMb: integerAtLeast(env, "ZIPKIN_HEAP_MB", 256, 128),
    zipkinUrl:
      external && env.ZIPKIN_URL
        ? httpUrl("ZIPKIN_URL", env.ZIPKIN_URL, "http://127.0.0.1:9411")
        : `http://${host}:${zipkinPort}`,
    externalWaitSeconds: integerAtLeast(env, "BLUEPRINT_EXTERNAL_WAIT_SECONDS", 30, 1),
    ignoredVariables: external ? [] : EXTERNAL_ONLY_VARIABLES.filter((name) => env[name]),
  };
}

/** The variables services and tests read to reach the dependencies, in either mode. */
export function dependencyEnv(settings: LocalSettings): NodeJS.ProcessEnv {
  return {
    PGHOST: settings.postgres.host,
    PGPORT: String(settings.postgres.port),
    // The local PostgreSQL has no TLS; deployed services keep the default, verify-full.
    PGSSLMODE: "disable",
    KAFKA_BROKERS: settings.kafkaBrokers.join(","),
    PROMETHEUS_URL: settings.prometheusUrl,
    ZIPKIN_URL: settings.zipkinUrl,
    // The services' spans go to the Zipkin server (see service-kit/src/tracing.ts).
    OTEL_TRACES_EXPORTER: "zipkin",
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${settings.zipkinUrl}/api/v2/spans`,
    OTEL_BSP_SCHEDULE_DELAY: "1000",
  };
}
