import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client } from "pg";
import { localServicePassword } from "../../../scripts/deps/provisioning";
import {
  createEmptyDatabase,
  PGHOST,
  PGPORT,
  run,
  serviceEnv,
  serviceKey,
  type TestDatabase,
} from "../../system-tests/support/environment";
import { type ServiceEntry, type ServiceName, serviceEntries } from "../src";

const SERVICES_DIR = path.resolve(__dirname, "../..");
/** The services' first migrations as they were when each service created its own kit tables. */
const PRE_KIT_DIR = path.join(__dirname, "fixtures", "pre-kit-migrations");
const MIGRATE_SCRIPT = path.join(__dirname, "support", "migrate.ts");

/** Migrates `entry` with the code under test, or as the code before the kit owned its tables did. */
async function migrate(
  entry: ServiceEntry<ServiceName>,
  database: string,
  version: "current" | "pre-kit",
): Promise<string[]> {
  const dir =
    version === "current"
      ? path.join(SERVICES_DIR, entry.name, "migrations")
      : path.join(PRE_KIT_DIR, entry.name);
  const output = await run(
    process.execPath,
    ["--conditions=development", "--import", "tsx", MIGRATE_SCRIPT, entry.name, dir, version],
    serviceEnv(serviceKey(entry.name), database, ""),
  );
  return JSON.parse(output) as string[];
}

async function asService<T>(entry: ServiceEntry, database: string, work: (c: Client) => Promise<T>) {
  const client = new Client({
    host: PGHOST,
    port: PGPORT,
    database,
    user: entry.database.role,
    password: localServicePassword(entry.database.role),
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Tables, columns, constraints and indexes of the service's schema, for comparing two databases. */
function schemaOf(entry: ServiceEntry, database: string): Promise<string[]> {
  const schema = entry.database.schema;
  return asService(entry, database, async (c) => {
    const columns = await c.query<{ d: string }>(
      `SELECT format('%s.%s %s null=%s default=%s identity=%s', table_name, column_name, data_type,
              is_nullable, column_default, identity_generation) AS d
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const constraints = await c.query<{ d: string }>(
      `SELECT format('%s %s %s', cl.relname, co.conname, pg_get_constraintdef(co.oid)) AS d
         FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
         JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
      [schema],
    );
    const indexes = await c.query<{ d: string }>(
      "SELECT indexdef AS d FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname",
      [schema],
    );
    return [...columns.rows, ...constraints.rows, ...indexes.rows].map((r) => r.d);
  });
}

function tablesOf(entry: ServiceEntry, database: string): Promise<string[]> {
  return asService(entry, database, async (c) => {
    const { rows } = await c.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1",
      [entry.database.schema],
    );
    return rows.map((r) => r.t);
  });
}

const OUTBOX_ROW = `INSERT INTO outbox (event_id, topic, message_key, payload, headers)
  VALUES ($1, 't', 'k', '{}', '{}') RETURNING id`;
const PROCESSED_ROW = `INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
  VALUES ($1, 'e', 't', 0, 0)`;

/** The tables each service's schema has once migrated. */
const FRESH_TABLES: Record<string, string[]> = {
  "user-service": [
    "audit_log",
    "idempotency_keys",
    "kit_audit_migrations",
    "kit_idempotency_migrations",
    "kit_outbox_migrations",
    "outbox",
    "pgmigrations",
    "users",
  ],
  "order-service": [
    "audit_log",
    "idempotency_keys",
    "kit_audit_migrations",
    "kit_idempotency_migrations",
    "kit_outbox_migrations",
    "kit_processed_events_migrations",
    "known_users",
    "orders",
    "outbox",
    "pgmigrations",
    "processed_events",
  ],
  "notification-service": [
    "audit_log",
    "kit_audit_migrations",
    "kit_processed_events_migrations",
    "notifications",
    "pgmigrations",
    "processed_events",
  ],
};

/** The kit migrations each service applies. */
const KIT_APPLIED: Record<string, string[]> = {
  "user-service": [
    "outbox/001_outbox",
    "outbox/002_drop_outbox_unsent",
    "idempotency/001_idempotency_keys",
    "audit/001_audit_log",
  ],
  "order-service": [
    "outbox/001_outbox",
    "outbox/002_drop_outbox_unsent",
    "processed-events/001_processed_events",
    "idempotency/001_idempotency_keys",
    "audit/001_audit_log",
  ],
  "notification-service": ["processed-events/001_processed_events", "audit/001_audit_log"],
};

describe("kit migrations against the real PostgreSQL", () => {
  let fresh: TestDatabase;
  let legacy: TestDatabase;
  let concurrent: TestDatabase;
  let rolledBack: TestDatabase;
  const entries = serviceEntries();

  beforeAll(async () => {
    [fresh, legacy, concurrent, rolledBack] = await Promise.all([
      createEmptyDatabase(),
      createEmptyDatabase(),
      createEmptyDatabase(),
      createEmptyDatabase(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([fresh?.drop(), legacy?.drop(), concurrent?.drop(), rolledBack?.drop()]);
  });

  it("When each service migrates a fresh database, then it gets the kit tables its catalog entry needs, its own, and nothing on a second run", async () => {
    await Promise.all(
      entries.map(async (entry) => {
        const applied = await migrate(entry, fresh.name, "current");
        expect(applied.length).toBeGreaterThan(0);
        expect(await tablesOf(entry, fresh.name)).toEqual(FRESH_TABLES[entry.name]);
        expect(await migrate(entry, fresh.name, "current")).toEqual([]);
      }),
    );
  });

  it("When a database migrated by the files that created the kit tables migrates with the current code, then it applies cleanly, keeps its rows and matches a fresh database", async () => {
    // The service's own first migration had already run: the kit's tracking entries and the
    // service's later migrations are new.
    await Promise.all(
      entries.map(async (entry) => {
        await migrate(entry, legacy.name, "pre-kit");
        const outboxEvent = randomUUID();
        const processedEvent = randomUUID();
        await asService(entry, legacy.name, async (c) => {
          if (entry.produces.length > 0) await c.query(OUTBOX_ROW, [outboxEvent]);
          if (entry.consumes.length > 0) await c.query(PROCESSED_ROW, [processedEvent]);
        });

        const later = fs
          .readdirSync(path.join(SERVICES_DIR, entry.name, "migrations"))
          .sort()
          .slice(1)
          .map((file) => file.replace(/\.sql$/, ""));
        expect(await migrate(entry, legacy.name, "current")).toEqual([
          ...(KIT_APPLIED[entry.name] ?? []),
          ...later,
        ]);
        await asService(entry, legacy.name, async (c) => {
          if (entry.produces.length > 0) {
            const kept = await c.query("SELECT id FROM outbox WHERE event_id = $1", [outboxEvent]);
            expect(kept.rowCount).toBe(1);
            // The identity sequence carries on: new rows never collide with kept ones.
            const next = await c.query<{ id: string }>(OUTBOX_ROW, [randomUUID()]);
            expect(Number(next.rows[0]?.id)).toBeGreaterThan(Number(kept.rows[0]?.id));
          }
          if (entry.consumes.length > 0) {
            const kept = await c.query("SELECT 1 FROM processed_events WHERE event_id = $1", [
              processedEvent,
            ]);
            expect(kept.rowCount).toBe(1);
          }
        });

        await migrate(entry, fresh.name, "current");
        expect(await schemaOf(entry, legacy.name)).toEqual(await schemaOf(entry, fresh.name));
      }),
    );
  });

  it("When three replicas of each service migrate a fresh database at once, then each migration is applied by exactly one of them and none fails", async () => {
    await Promise.all(
      entries.map(async (entry) => {
        const replicas = await Promise.all([1, 2, 3].map(() => migrate(entry, concurrent.name, "current")));
        const own = fs
          .readdirSync(path.join(SERVICES_DIR, entry.name, "migrations"))
          .map((file) => file.replace(/\.sql$/, ""));
        expect(replicas.flat().sort()).toEqual([...(KIT_APPLIED[entry.name] ?? []), ...own].sort());
        expect(await tablesOf(entry, concurrent.name)).toEqual(FRESH_TABLES[entry.name]);
      }),
    );
  });

  it("When the previous image, from before the kit owned its tables, starts on a database the current code migrated (a rollback), then it applies nothing and does not fail", async () => {
    await Promise.all(
      entries.map(async (entry) => {
        await migrate(entry, rolledBack.name, "current");
        expect(await migrate(entry, rolledBack.name, "pre-kit")).toEqual([]);
        // And rolling forward again finds nothing to do either.
        expect(await migrate(entry, rolledBack.name, "current")).toEqual([]);
      }),
    );
  });
});
