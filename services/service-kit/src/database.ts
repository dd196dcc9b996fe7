import { Pool } from "pg";
import type { BaseConfig } from "./config";

export type { Pool };

export function createPool(config: BaseConfig): Pool {
  return new Pool({
    host: config.PGHOST,
    port: config.PGPORT,
    database: config.PGDATABASE,
    user: config.PGUSER,
    password: config.PGPASSWORD,
    max: config.PG_POOL_MAX,
    ssl: config.PGSSLMODE === "disable" ? false : { rejectUnauthorized: config.PGSSLMODE === "verify-full" },
    connectionTimeoutMillis: 2_000,
    application_name: config.SERVICE_NAME,
  });
}
