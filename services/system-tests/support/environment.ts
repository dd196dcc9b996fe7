import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createLogger,
  type Logger,
  Messaging,
  type ServiceEntry,
  type ServiceName,
  serviceEntries,
  topicEntries,
} from "@blueprint/service-kit";
import { localAuthEnv } from "@blueprint/service-kit/dev-tokens";
import { Client } from "pg";
import { localServicePassword, provisioningSql } from "../../../scripts/deps/provisioning";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
export const PGHOST = process.env.PGHOST ?? "127.0.0.1";
export const PGPORT = Number(process.env.PGPORT ?? 5432);
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? "127.0.0.1:9092";
const SUPERUSER = process.env.PGSUPERUSER ?? "postgres";
const SUPERUSER_PASSWORD = process.env.PGSUPERPASSWORD ?? "postgres";

/** A catalog service by its short name: `user` for user-service. */
export type ServiceKey = ServiceName extends `${infer K}-service` ? K : never;

/** The short name of a catalog service. */
export function serviceKey(name: ServiceName): ServiceKey {
  return name.replace(/-service$/, "") as ServiceKey;
}

/** Every catalog service's entry by short name; the harness reads roles, schemas and names here. */
export const ENTRIES = Object.fromEntries(serviceEntries().map((e) => [serviceKey(e.name), e])) as {
  readonly [K in ServiceKey]: ServiceEntry<`${K}-service`>;
};

export const quietLogger: Logger = createLogger("test", process.env.TEST_LOG_LEVEL ?? "silent");

function superuser(database: string): Client {
  return new Client({ host: PGHOST, port: PGPORT, user: SUPERUSER, password: SUPERUSER_PASSWORD, database });
}

async function withClient<T>(database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = superuser(database);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Hash of every migration file, the kit's and the services': a template database is reused while they are unchanged. */
function migrationsHash(): string {
  const hash = createHash("sha256");
  const dirs = [
    path.join(REPO_ROOT, "services", "service-kit", "migrations"),
    ...serviceEntries().map((e) => path.join(REPO_ROOT, "services", e.name, "migrations")),
  ];
  for (const dir of dirs) {
    for (const file of fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort()) {
      const full = path.join(dir, file);
      if (fs.statSync(full).isFile()) hash.update(file).update(fs.readFileSync(full));
    }
  }
  return hash.digest("hex").slice(0, 12);
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

/** The command line that runs a service entry point (main or migrate) from TypeScript sources. */
export function tsEntry(service: ServiceKey, file: "main" | "migrate"): string[] {
  return [
    "--conditions=development",
    "--import",
    "tsx",
    path.join(REPO_ROOT, "services", ENTRIES[service].name, "src", `${file}.ts`),
  ];
}

/** Environment of a service against `database`, with Kafka names under `namespace`. */
export function serviceEnv(
  service: ServiceKey,
  database: string,
  namespace: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const entry = ENTRIES[service];
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PGHOST,
    PGPORT: String(PGPORT),
    PGSSLMODE: "disable",
    PGDATABASE: database,
    PGUSER: entry.database.role,
    PGPASSWORD: localServicePassword(entry.database.role),
    KAFKA_BROKERS,
    KAFKA_NAMESPACE: namespace,
    PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    MIGRATE_ON_START: "false",
    CONSUMER_BACKOFF_BASE_MS: "50",
    CONSUMER_BACKOFF_MAX_MS: "400",
    DELIVERY_BACKOFF_BASE_MS: "200",
    DELIVERY_BACKOFF_MAX_MS: "1000",
    DELIVERY_POLL_MS: "100",
    // The services trust the development issuer; tests sign their tokens with its key (support/auth.ts).
    ...localAuthEnv(),
    ...extra,
  };
}

/**
 * A migrated template database, built once per set of migration files with the services' real
 * migrate commands; test databases are cheap copies of it.
 */
async function ensureTemplate(): Promise<string> {
  const template = `bp_tpl_${migrationsHash()}`;
  return withClient("postgres", async (admin) => {
    // One builder at a time across parallel test processes.
    await admin.query("SELECT pg_advisory_lock(4242)");
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (exists.rowCount === 0) {
        const stale = await admin.query<{ datname: string }>(
          "SELECT datname FROM pg_database WHERE datname LIKE 'bp_tpl_%'",
        );
        for (const { datname } of stale.rows)
          await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
        const building = `${template}_build`;
        await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${building}`);
        await provision(building);
        await Promise.all(
          serviceEntries().map((e) =>
            run(
              process.execPath,
              tsEntry(serviceKey(e.name), "migrate"),
              serviceEnv(serviceKey(e.name), building, ""),
            ),
          ),
        );
        await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      }
    } finally {
      await admin.query("SELECT pg_advisory_unlock(4242)");
    }
    return template;
  });
}

/** Gives `database` the services' roles and schemas, as `deps:up` does for the shared one. */
async function provision(database: string): Promise<void> {
  await withClient(database, async (db) => {
    for (let attempt = 1; ; attempt++) {
      try {
        // One implicit transaction: a failed attempt leaves nothing behind.
        await db.query(provisioningSql(database));
        return;
      } catch (error) {
        // The roles' search_path is one cluster-wide row; databases provisioned at once race on it.
        if (attempt >= 20 || !/tuple concurrently updated/.test(String(error))) throw error;
        await sleep(20 + Math.random() * 80);
      }
    }
  });
}

export interface TestDatabase {
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own, so suites never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(await ensureTemplate());
}

/** A database with the services' roles and schemas but no migrations applied (migration tests). */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase("template1");
}

async function createDatabase(template: string): Promise<TestDatabase> {
  const name = `bp_test_${randomBytes(5).toString("hex")}`;
  await withClient("postgres", async (admin) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (error) {
        // Copying needs the template to have no sessions; another suite may be copying it too.
        if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
        await sleep(100);
      }
    }
  });
  await provision(name);
  return {
    name,
    drop: () =>
      withClient("postgres", (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/** A Kafka namespace of its own: every catalog topic created under a fresh prefix. */
export async function createTestNamespace(
  brokers = KAFKA_BROKERS,
): Promise<{ namespace: string; drop(): Promise<void> }> {
  const namespace = `t${randomBytes(4).toString("hex")}.`;
  const messaging = new Messaging({
    brokers: brokers.split(","),
    clientId: "test-setup",
    logger: quietLogger,
  });
  const admin = messaging.admin();
  await admin.createTopics(
    topicEntries().map((t) => ({ name: `${namespace}${t.name}`, partitions: Math.min(t.partitions, 3) })),
  );
  return {
    namespace,
    async drop() {
      await admin.deleteTopics(topicEntries().map((t) => `${namespace}${t.name}`)).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
