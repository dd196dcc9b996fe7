import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { z } from "zod";
import { AuditLog, auditRoute } from "./audit";
import { TokenVerifier } from "./auth";
import type { ServiceEntry } from "./catalog";
import {
  authConfigSchema,
  type BaseConfig,
  baseConfigSchema,
  ConfigError,
  HTTP_TIMEOUTS,
  kafkaAuthentication,
  loadConfig,
} from "./config";
import { createPool, Database } from "./database";
import { postgresCheck } from "./health";
import { createHttpApp, type Lifecycle } from "./http-app";
import { createLogger } from "./logger";
import { Messaging, type MessagingAdmin } from "./messaging";
import { ServiceMetrics } from "./metrics";
import { checkRoutesMatchCatalog } from "./route-catalog";
import type { RouteSpec } from "./routes";
import { resolveSecretReferences } from "./secret-references";
import { backoffDelay, Waker } from "./timing";
import { flushTraces } from "./trace-context";

/** Version of the services' HTTP APIs in their OpenAPI documents. */
const API_VERSION = "1.0.0";

/** The config schema of a catalog service: base settings with its name, port and role as defaults. */
export function serviceConfigSchema(entry: ServiceEntry) {
  return baseConfigSchema.extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default(entry.name),
    PORT: baseConfigSchema.shape.PORT.default(entry.port),
    PGUSER: baseConfigSchema.shape.PGUSER.default(entry.database.role),
  });
}

/** Everything a service's parts are built from. */
export interface ServiceContext<C extends BaseConfig = BaseConfig> {
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly db: Database;
  readonly messaging: Messaging;
  readonly admin: MessagingAdmin;
}

/**
 * A background part (relay, consumer, worker) started after the listener and stopped before the
 * pool. A failed `start` must leave nothing behind that `stop` cannot release: it is retried.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  /** Finishes in-flight work; `budgetMs` is what is left of the shutdown deadline. */
  stop(budgetMs: number): Promise<void>;
}

export interface ServiceParts {
  readonly routes: readonly RouteSpec[];
  /** Started in order, stopped in reverse: list publishers before the consumers that feed them. */
  readonly components: readonly Component[];
}

export interface ServiceDefinition<S extends z.ZodType<BaseConfig>> {
  readonly entry: ServiceEntry;
  /** What the service does, in one sentence: the description of its OpenAPI document. */
  readonly description: string;
  readonly configSchema: S;
  readonly migrationsDir: string;
  create(context: ServiceContext<z.output<S>>): ServiceParts;
}

export interface RunningService<C extends BaseConfig = BaseConfig> {
  readonly context: ServiceContext<C>;
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** The graceful drain; resolves when everything is closed. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Exit the process on SIGTERM/SIGINT after draining (true for real processes, false in tests). */
  readonly handleSignals?: boolean;
}

/** Retry delays of a component whose start failed: capped, so it resumes soon after Kafka returns. */
const COMPONENT_RETRY_BASE_MS = 500;
const COMPONENT_RETRY_MAX_MS = 10_000;

/** The most the last spans may take to export at stop: losing them beats missing the drain deadline. */
const TRACE_FLUSH_MAX_MS = 2_000;

/**
 * Starts a component without holding up the service: a failed start (typically Kafka unreachable)
 * is released with `stop` and retried with capped backoff until it succeeds or the service stops,
 * so an instance serves its own traffic while the brokers are away.
 */
class BackgroundStart {
  private readonly waker = new Waker();
  private cancelled = false;
  private started = false;

  constructor(
    readonly component: Component,
    private readonly logger: Logger,
  ) {
    void this.run();
  }

  private async run(): Promise<void> {
    const { name } = this.component;
    for (let attempt = 1; !this.cancelled; attempt++) {
      try {
        await this.component.start();
        if (this.cancelled) {
          // Stopped while this attempt was in flight: release it at once, nothing waits for it.
          await this.component.stop(0).catch(() => undefined);
          return;
        }
        this.started = true;
        if (attempt > 1) this.logger.info({ component: name, attempts: attempt }, "component started");
        return;
      } catch (error) {
        await this.component.stop(0).catch(() => undefined);
        if (this.cancelled) return;
        const delay = backoffDelay(attempt, COMPONENT_RETRY_BASE_MS, COMPONENT_RETRY_MAX_MS);
        this.logger.warn(
          { err: error, component: name, attempt, retry_in_ms: delay },
          "component did not start; retrying",
        );
        await this.waker.sleep(delay);
      }
    }
  }

  /**
   * Ends the retries and stops the component if it started. An attempt still in flight (a broker
   * that does not answer) is not waited for: the drain budget belongs to the parts that run.
   */
  async stop(budgetMs: number): Promise<void> {
    this.cancelled = true;
    this.waker.wake();
    if (this.started) await this.component.stop(budgetMs);
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/**
 * Starts a service: config and auth settings (a bad value stops start-up naming the variable),
 * logger, metrics, pool, messaging, its parts and the kit's audit route (together they must be its
 * catalog entry's routes), migrations when
 * MIGRATE_ON_START, the HTTP app, then its components in the background (retried until Kafka
 * answers; the service does not wait for them). Stopping drains in the order the platform promises: /ready turns
 * 503, the listener closes and in-flight requests finish, components stop in reverse (consumers
 * commit their offsets, the outbox relay publishes what is pending), the Kafka clients and the
 * pool close; all within SHUTDOWN_TIMEOUT_MS.
 */
export async function startService<S extends z.ZodType<BaseConfig>>(
  definition: ServiceDefinition<S>,
  options: StartOptions = {},
): Promise<RunningService<z.output<S>>> {
  const env = options.env ?? process.env;
  const config = loadConfig(definition.configSchema, env) as z.output<S>;
  const verifier = new TokenVerifier(loadConfig(authConfigSchema, env));
  const authentication = kafkaAuthentication(config);
  const logger = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const metrics = new ServiceMetrics(config.SERVICE_NAME, definition.entry.metrics);
  const db = new Database(createPool(config), metrics);
  const messaging = new Messaging({
    brokers: config.KAFKA_BROKERS,
    clientId: config.SERVICE_NAME,
    logger,
    authentication,
    onConnectivity: (client, connected) => metrics.kafkaConnected.set({ client }, connected ? 1 : 0),
  });
  const admin = messaging.admin();
  const context: ServiceContext<z.output<S>> = { config, logger, metrics, db, messaging, admin };
  // Building the parts does no I/O; the route check comes before migrating so that an image whose
  // routes differ from its catalog entry stops without having changed the database.
  const parts = definition.create(context);
  const audit = new AuditLog(db);
  const routes = [...parts.routes, auditRoute(definition.entry, audit)];
  checkRoutesMatchCatalog(definition.entry, routes);
  if (config.MIGRATE_ON_START) {
    const { runMigrations } = await import("./migrations.js");
    await runMigrations({ config, entry: definition.entry, dir: definition.migrationsDir, logger });
  }
  const lifecycle: Lifecycle = { draining: false };
  const app = createHttpApp({
    service: config.SERVICE_NAME,
    logger,
    metrics,
    // Kafka is not a readiness check: this instance serves its traffic without it (events wait in
    // the outbox); broker connectivity is the kafka_connected metric and its alert.
    readiness: [postgresCheck(db)],
    routes,
    verifier,
    audit,
    openapi: { title: definition.entry.name, version: API_VERSION, description: definition.description },
    bodyLimit: config.BODY_LIMIT,
    lifecycle,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.PORT, (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  server.keepAliveTimeout = HTTP_TIMEOUTS.keepAliveMs;
  server.headersTimeout = HTTP_TIMEOUTS.headersMs;
  const port = (server.address() as AddressInfo).port;
  const started = parts.components.map((component) => new BackgroundStart(component, logger));
  logger.info({ port }, "listening");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS;
      lifecycle.draining = true;
      logger.info({ deadline_ms: config.SHUTDOWN_TIMEOUT_MS }, "draining");
      if (config.SHUTDOWN_DELAY_MS > 0) await sleep(config.SHUTDOWN_DELAY_MS);
      await closeServer(server);
      for (const start of [...started].reverse()) {
        await start.stop(Math.max(0, deadline - Date.now())).catch((error: unknown) => {
          logger.error({ err: error, component: start.component.name }, "component did not stop cleanly");
        });
      }
      await admin.disconnect().catch(() => undefined);
      await db.end();
      logger.info("drained");
      await flushTraces(Math.min(Math.max(0, deadline - Date.now()), TRACE_FLUSH_MAX_MS));
    })();
    return stopping;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "shutting down");
      setTimeout(() => {
        logger.error("shutdown deadline passed; exiting");
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { context, server, port, url: `http://127.0.0.1:${port}`, stop };
}

/** The entry point of a service process: start, or print the config errors and exit 1. */
export function runServiceProcess<S extends z.ZodType<BaseConfig>>(definition: ServiceDefinition<S>): void {
  resolveSecretReferences(process.env)
    .then(() => startService(definition, { handleSignals: true }))
    .catch((error: unknown) => {
      const name = definition.entry.name;
      console.error(error instanceof ConfigError ? `${name}: ${error.message}` : error);
      process.exit(1);
    });
}

/** The entry point of a service's migrate command: apply pending migrations and exit. */
export function runMigrateProcess<S extends z.ZodType<BaseConfig>>(definition: ServiceDefinition<S>): void {
  const name = definition.entry.name;
  (async () => {
    await resolveSecretReferences(process.env);
    const config = loadConfig(definition.configSchema, process.env) as z.output<S>;
    const logger = createLogger(`${name}-migrate`, config.LOG_LEVEL);
    const { runMigrations } = await import("./migrations.js");
    const applied = await runMigrations({
      config,
      entry: definition.entry,
      dir: definition.migrationsDir,
      logger,
    });
    console.log(`${name}: ${applied.length === 0 ? "up to date" : `applied ${applied.join(", ")}`}`);
  })().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? `${name}: ${error.message}` : error);
    process.exit(1);
  });
}
