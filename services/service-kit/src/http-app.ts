import express, { type Express } from "express";
import type { Logger } from "pino";
import type { AuditLog } from "./audit";
import type { TokenVerifier } from "./auth";
import { expressPath } from "./catalog";
import { errorHandler, methodNotAllowedHandler, notFoundHandler } from "./errors";
import { type ReadinessCheck, runChecks } from "./health";
import type { ServiceMetrics } from "./metrics";
import { PROBE_PATHS } from "./probe-paths";
import { requestLogs } from "./request-log";
import { mountRoutes, type OpenApiInfo, openApiDocument, type RouteSpec } from "./routes";
import { securityHeaders } from "./security-headers";

/** Shared between the HTTP app and the shutdown sequence: once draining, /ready answers 503. */
export interface Lifecycle {
  draining: boolean;
}

export interface HttpAppOptions {
  readonly service: string;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Probes behind /ready; /health never depends on them. */
  readonly readiness: readonly ReadinessCheck[];
  readonly routes?: readonly RouteSpec[];
  readonly openapi?: OpenApiInfo;
  /** @default "100kb" */
  readonly bodyLimit?: string;
  readonly lifecycle?: Lifecycle;
  /** Checks the bearer tokens of the business routes; probes, metrics and the OpenAPI document stay public. */
  readonly verifier: TokenVerifier;
  /** Where writes are audited; required when any route writes. */
  readonly audit?: AuditLog;
}

/** The route template that served `req` (`/users/:id`), or `unmatched`: the metrics' `endpoint` label. */
function routeTemplate(req: express.Request): string {
  const route = req.route as { path?: string } | undefined;
  return route?.path === undefined ? "unmatched" : `${req.baseUrl}${route.path}`;
}

/** Paths every service serves, all with GET only. */
const PLATFORM_PATHS = ["/health", "/ready", "/metrics", "/openapi.json"];

/**
 * Answers 405 with `Allow` for a known path asked with a method it does not declare; mounted after
 * the routes, so only requests no route took reach it.
 */
function methodsNotAllowed(routes: readonly RouteSpec[]): express.Router {
  const methods = new Map<string, string[]>(PLATFORM_PATHS.map((path) => [path, ["GET"]]));
  for (const route of routes) {
    const path = expressPath(route.path);
    methods.set(path, [...(methods.get(path) ?? []), route.method]);
  }
  const router = express.Router();
  for (const [path, allowed] of methods) router.all(path, methodNotAllowedHandler(allowed));
  return router;
}

/**
 * An Express app with the platform's baseline: request ids and JSON request logs, HTTP metrics by
 * route template, helmet, the service's routes with validation, `/health` (liveness), `/ready`
 * (readiness: every dependency answers and not draining), `/metrics`, `/openapi.json`, and one
 * error handler.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const { metrics, logger } = options;
  const lifecycle = options.lifecycle ?? { draining: false };
  const routes = options.routes ?? [];
  const document = openApiDocument(options.openapi ?? { title: options.service, version: "1.0.0" }, routes);
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("trust proxy", 1);

  app.use((req, res, next) => {
    // While draining, keep-alive clients are told to reconnect (to another replica).
    if (lifecycle.draining) res.setHeader("connection", "close");
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const labels = {
        method: req.method,
        endpoint: routeTemplate(req),
        status: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      // A replica saying it is not ready (a probe's 503) is doing its job, not failing a caller.
      if (res.statusCode >= 500 && !PLATFORM_PATHS.includes(labels.endpoint)) metrics.serviceErrors.inc();
    });
    next();
  });
  app.use(
    requestLogs({
      logger,
      route: routeTemplate,
      ignore: (req) => PROBE_PATHS.has(req.url),
    }),
  );
  app.use(securityHeaders());

  app.get("/health", (_req, res) => {
    res.json({ status: "ok", service: options.service });
  });
  app.get("/ready", async (_req, res) => {
    if (lifecycle.draining) {
      res.status(503).json({ status: "draining", checks: {} });
      return;
    }
    const report = await runChecks(options.readiness);
    if (!report.ready) logger.warn({ checks: report.checks }, "not ready");
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? "ready" : "not ready", checks: report.checks });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.render());
  });
  app.get("/openapi.json", (_req, res) => {
    res.json(document);
  });

  const router = express.Router();
  mountRoutes(router, routes, {
    bodyLimit: options.bodyLimit ?? "100kb",
    verifier: options.verifier,
    realm: options.service,
    audit: options.audit,
  });
  app.use(router);
  app.use(methodsNotAllowed(routes));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
