import { Client } from "pg";
import type { Dependency } from "./dependency";
import { clusterReady } from "./kafka-admin";
import { GiveUpWaiting, waitUntil } from "./processes";
import { prometheusReady } from "./prometheus";
import { provisionDatabase, provisionTopics } from "./provisioning";
import type { LocalSettings, PostgresEndpoint } from "./settings";
import { zipkinReady } from "./zipkin";

const COMPOSE_UP =
  "docker compose -f docker-compose-local.yml up -d postgres kafka kafka-init prometheus zipkin";

/**
 * A dependency someone else runs (BLUEPRINT_DEPS=external), e.g. from docker compose: waited for
 * and provisioned like a local one, never installed, started or stopped.
 */
class ExternalDependency implements Dependency {
  readonly managed = false;

  constructor(
    readonly name: string,
    readonly address: string,
    /** The variables that set `address`, named in errors. */
    private readonly variables: string,
    private readonly waitSeconds: number,
    private readonly ready: () => Promise<boolean>,
    private readonly provision: () => Promise<void>,
  ) {}

  runningPid(): undefined {
    return undefined;
  }

  async up(): Promise<false> {
    await waitUntil(`${this.name} at ${this.address}`, this.ready, {
      timeoutMs: this.waitSeconds * 1000,
      intervalMs: 500,
      describe: () =>
        `BLUEPRINT_DEPS=external expects it running there: start it (e.g. ${COMPOSE_UP}) or set ${this.variables} to where it listens.`,
    });
    await this.provision();
    return false;
  }

  async down(): Promise<void> {}
}

/** Connects as the superuser; a rejected login fails at once, as waiting cannot fix it. */
async function postgresReady(endpoint: PostgresEndpoint): Promise<boolean> {
  const client = new Client({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.superuser,
    password: endpoint.superuserPassword,
    database: "postgres",
    connectionTimeoutMillis: 2_000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    // SQLSTATE class 28: invalid authorization (wrong user or password).
    if (String((error as { code?: unknown }).code).startsWith("28")) {
      throw new GiveUpWaiting(
        `PostgreSQL at ${endpoint.host}:${endpoint.port} rejected superuser "${endpoint.superuser}": ${(error as Error).message}. Set PGSUPERUSER and PGSUPERPASSWORD to a superuser's login.`,
      );
    }
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL, Kafka, Prometheus and Zipkin at the addresses the settings name. */
export function externalDependencies(settings: LocalSettings): Dependency[] {
  const { postgres, kafkaBrokers, prometheusUrl, zipkinUrl, externalWaitSeconds: wait } = settings;
  return [
    new ExternalDependency(
      "postgres",
      `${postgres.host}:${postgres.port}`,
      "PGHOST and PGPORT",
      wait,
      () => postgresReady(postgres),
      () => provisionDatabase(postgres),
    ),
    new ExternalDependency(
      "kafka",
      kafkaBrokers.join(","),
      "KAFKA_BROKERS",
      wait,
      () => clusterReady(kafkaBrokers),
      () => provisionTopics(kafkaBrokers),
    ),
    new ExternalDependency(
      "prometheus",
      prometheusUrl,
      "PROMETHEUS_URL",
      wait,
      () => prometheusReady(prometheusUrl),
      async () => undefined,
    ),
    new ExternalDependency(
      "zipkin",
      zipkinUrl,
      "ZIPKIN_URL",
      wait,
      () => zipkinReady(zipkinUrl),
      async () => undefined,
    ),
  ];
}
