import path from "node:path";

/** Where and on which ports the local dependencies run. Read once from the environment. */
export interface LocalSettings {
  readonly repoRoot: string;
  readonly localDir: string;
  readonly runDir: string;
  readonly logDir: string;
  readonly cacheDir: string;
  readonly host: string;
  readonly postgresPort: number;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly kafkaVersion: string;
  readonly kafkaHeapMb: number;
  readonly prometheusPort: number;
}

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

export function loadSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const repoRoot = path.resolve(__dirname, "../..");
  const localDir = path.resolve(env.BLUEPRINT_LOCAL_DIR ?? path.join(repoRoot, ".local"));
  const heap = Number(env.KAFKA_HEAP_MB ?? 512);
  if (!Number.isInteger(heap) || heap < 256) {
    throw new SettingsError(`KAFKA_HEAP_MB must be an integer of at least 256, got "${env.KAFKA_HEAP_MB}"`);
  }
  return {
    repoRoot,
    localDir,
    runDir: path.join(localDir, "run"),
    logDir: path.join(localDir, "logs"),
    cacheDir: path.resolve(env.BLUEPRINT_CACHE_DIR ?? path.join(localDir, "cache")),
    host: "127.0.0.1",
    postgresPort: port(env, "PGPORT", 5432),
    kafkaPort: port(env, "KAFKA_PORT", 9092),
    kafkaControllerPort: port(env, "KAFKA_CONTROLLER_PORT", 9093),
    // Kafka 3.9 is the newest line whose protocol versions kafkajs 2.2 still speaks (4.x removed old ones).
    kafkaVersion: env.KAFKA_VERSION ?? "3.9.2",
    kafkaHeapMb: heap,
    prometheusPort: port(env, "PROMETHEUS_PORT", 9090),
  };
}
