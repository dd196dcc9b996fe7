import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { BaseConfig } from "./config";

export interface MigrationOptions {
  readonly config: BaseConfig;
  /** Folder of `NNN_name.sql` files with `-- Up Migration` and `-- Down Migration` sections. */
  readonly dir: string;
  /** The service's own schema; the migrations table lives there too. */
  readonly schema: string;
  readonly logger: Logger;
}

/**
 * Applies pending migrations with node-pg-migrate, in one transaction, under an advisory lock per
 * schema that replicas starting together wait for. Returns the names applied.
 *
 * node-pg-migrate 9 is ESM-only; it is loaded with import() (require(esm) on Node 20.19+ works too)
 * so that modules which merely import the kit, such as Jest suites, never load it.
 */
export async function runMigrations(options: MigrationOptions): Promise<string[]> {
  const { runner } = await import("node-pg-migrate");
  const { config, schema, logger } = options;
  const lockValue = createHash("sha256").update(`migrations:${schema}`).digest().readInt32BE(0);
  const applied = await runner({
    databaseUrl: {
      host: config.PGHOST,
      port: config.PGPORT,
      database: config.PGDATABASE,
      user: config.PGUSER,
      password: config.PGPASSWORD,
      ssl:
        config.PGSSLMODE === "disable" ? false : { rejectUnauthorized: config.PGSSLMODE === "verify-full" },
    },
    dir: options.dir,
    schema,
    migrationsTable: "pgmigrations",
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
  const names = applied.map((m) => m.name);
  if (names.length > 0) logger.info({ applied: names }, "migrations applied");
  return names;
}
