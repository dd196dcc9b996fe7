import { createHttpApp, type Logger, postgresCheck } from "@blueprint/service-kit";
import type { Express } from "express";
import type { Pool } from "pg";

export interface UserServiceDeps {
  readonly pool: Pool;
  readonly logger: Logger;
}

export function buildApp(deps: UserServiceDeps): Express {
  return createHttpApp({
    service: "user-service",
    logger: deps.logger,
    readiness: [postgresCheck(deps.pool)],
  });
}
