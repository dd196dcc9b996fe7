import express, { type Express, type Router } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { type ReadinessCheck, runChecks } from "./health";

export interface HttpAppOptions {
  readonly service: string;
  readonly logger: Logger;
  /** Probes behind /ready; /health never depends on them. */
  readonly readiness: readonly ReadinessCheck[];
  /** The service's own routes, mounted after the platform endpoints. */
  readonly routes?: Router;
  /** @default "100kb" */
  readonly bodyLimit?: string;
}

/**
 * An Express app with the platform's baseline: helmet, a JSON body limit, `/health` (liveness:
 * the process answers) and `/ready` (readiness: every dependency answers).
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", 1);
  app.use(helmet());
  app.use(express.json({ limit: options.bodyLimit ?? "100kb" }));

  app.get("/health", (_req, res) => {
    res.json({ status: "ok", service: options.service });
  });
  app.get("/ready", async (_req, res) => {
    const report = await runChecks(options.readiness);
    if (!report.ready) options.logger.warn({ checks: report.checks }, "not ready");
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? "ready" : "not ready", checks: report.checks });
  });
  if (options.routes) app.use(options.routes);
  return app;
}
