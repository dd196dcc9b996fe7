import { serviceEnv } from "../../../system-tests/support/environment";
import { createPool, Database, loadConfig, ServiceMetrics, serviceEntry } from "../../src";
import { serviceConfigSchema } from "../../src/service";

export interface UserServiceDatabaseOptions {
  /** The database to connect to. */
  readonly database: string;
  /** Settings over the service's own (PG_POOL_MAX, ...). */
  readonly env?: NodeJS.ProcessEnv;
  readonly metrics?: ServiceMetrics;
}

/** A `Database` connected as user-service connects, with its role and settings. */
export function userServiceDatabase(options: UserServiceDatabaseOptions): Database {
  const config = loadConfig(serviceConfigSchema(serviceEntry("user-service")), {
    ...serviceEnv("user", options.database, ""),
    ...options.env,
  });
  return new Database(createPool(config), options.metrics ?? new ServiceMetrics("user-service"));
}
