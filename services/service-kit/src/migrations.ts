import { createHash } from "node:crypto";
import path from "node:path";
import type { Logger } from "pino";
import type { ServiceEntry } from "./catalog";
import type { BaseConfig } from "./config";
import { postgresTls } from "./database";

/**
 * Tables the kit's own code reads and writes. Each set has its migrations in
 * `service-kit/migrations/<name>/` and its own migrations table, so a set can be added to a
 * service later (it starts consuming, a new kit table appears) without disturbing the order of
 * what was applied before.
 */
interface KitTableSet {
  readonly name: string;
  /** Whether a service needs these tables, from its catalog entry. */
  needed(entry: ServiceEntry): boolean;
}

const KIT_TABLE_SETS: readonly KitTableSet[] = [
  { name: "outbox", needed: (entry) => entry.produces.length > 0 },
  { name: "processed-events", needed: (entry) => entry.consumes.length > 0 },
  { name: "idempotency", needed: (entry) => entry.routes.some((route) => route.method === "POST") },
  // Every service with an HTTP API serves its audit log, writes or not.
  { name: "audit", needed: (entry) => entry.routes.length > 0 },
];

/** Folder of the kit's migrations; `../migrations` from both `src` (sources) and `dist` (images). */
const KIT_MIGRATIONS_DIR = path.resolve(__dirname, "../migrations");

/** The kit table sets a service gets, in the order they are migrated. */
function kitTableSets(entry: ServiceEntry): KitTableSet[] {
  return KIT_TABLE_SETS.filter((set) => set.needed(entry));
}

/** Name of the migrations table that tracks one kit table set, next to the service's `pgmigrations`. */
function kitMigrationsTable(set: KitTableSet): string {
  return `kit_${set.name.replaceAll("-", "_")}_migrations`;
}

export interface MigrationOptions {
  readonly config: BaseConfig;
  /** The service; its schema holds its tables and the migrations tables. */
  readonly entry: ServiceEntry;
  /** Folder of the service's `NNN_name.sql` files with `-- Up Migration` and `-- Down Migration` sections. */
  readonly dir: string;
  readonly logger: Logger;
}

/**
 * Applies pending migrations: the kit's table sets the service needs, then the service's own.
 * Returns the names applied, kit ones as `<set>/<name>`.
 */
export async function runMigrations(options: MigrationOptions): Promise<string[]> {
  const applied: string[] = [];
  for (const set of kitTableSets(options.entry)) {
    const names = await migrate(options, path.join(KIT_MIGRATIONS_DIR, set.name), kitMigrationsTable(set));
    applied.push(...names.map((name) => `${set.name}/${name}`));
  }
  applied.push(...(await migrate(options, options.dir, "pgmigrations")));
  if (applied.length > 0) options.logger.info({ applied }, "migrations applied");
  return applied;
}

/**
 * One folder with node-pg-migrate, in one transaction, under an advisory lock per schema that
 * replicas starting together wait for.
 *
 * node-pg-migrate 9 is ESM-only; it is loaded with import() (require(esm) on Node 20.19+ works too)
 * so that modules which merely import the kit, such as Jest suites, never load it.
 */
async function migrate(options: MigrationOptions, dir: string, migrationsTable: string): Promise<string[]> {
  const { runner } = await import("node-pg-migrate");
  const { config, logger } = options;
  const schema = options.entry.database.schema;
  const lockValue = createHash("sha256").update(`migrations:${schema}`).digest().readInt32BE(0);
  const applied = await runner({
    databaseUrl: {
      host: config.PGHOST,
      port: config.PGPORT,
      database: config.PGDATABASE,
      user: config.PGUSER,
      password: config.PGPASSWORD,
      ssl: postgresTls(config),
    },
    dir,
    schema,
    migrationsTable,
    direction: "up",
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: "wait",
    lockValue,
    logger: {
      debug: (message: string) => logger.debug(message),
      info: (message: string) => logger.debug(message),
      warn: (message: string) => logger.warn(message),
      error: (message: string) => logger.error(message),
    },
  });
  return applied.map((m) => m.name);
}
