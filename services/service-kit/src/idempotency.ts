import { createHash } from "node:crypto";
import type { QueryResult, QueryResultRow } from "pg";
import type { Logger } from "pino";
import { z } from "zod";
import { Database, type Queryable, type Statement, statementText } from "./database";
import { AppError } from "./errors";
import {
  defineRoute,
  type RouteAccess,
  type RouteAudit,
  type RouteContext,
  type RouteInput,
  type RouteResult,
  type RouteSpec,
  type WriteAudit,
} from "./routes";
import type { Component } from "./service";
import { Waker } from "./timing";

/** How long a key's response is kept for replay; a retry after that runs the write again. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;
/** How long a request waits for another one holding the same key before it gets 409. */
const KEY_WAIT = "5s";
const CLEANUP_INTERVAL_MS = 10 * 60_000;
const CLEANUP_BATCH = 10_000;

const LOCK_NOT_AVAILABLE = "55P03";

export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe(
      `Makes a retry safe: the same key with the same body within ${IDEMPOTENCY_RETENTION_HOURS} h replays ` +
        "the first response (header Idempotent-Replayed: true) instead of writing again; with a different body, 422.",
    ),
});

/** Runs `work` in a transaction: in `q` when it already is one, else in a new one. */
export function withinTransaction<T>(q: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return q instanceof Database ? q.transaction(work) : work(q);
}

/** The transaction of a write; callbacks registered with `afterCommit` run once it commits. */
class KeyTransaction implements Queryable {
  readonly onCommit: Array<() => void> = [];

  constructor(private readonly tx: Queryable) {}

  query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    return this.tx.query<R>(statement, values);
  }
}

/**
 * Runs `callback` once what the write did on `q` is committed: now, unless `q` is the still open
 * transaction of an idempotency key. For waking the outbox relay, which would find nothing before.
 */
export function afterCommit(q: Queryable, callback: () => void): void {
  if (q instanceof KeyTransaction) q.onCommit.push(callback);
  else callback();
}

/**
 * How a write declared `singleStatement` runs without a key: its one statement straight on the
 * pool, which PostgreSQL runs as a transaction of its own, instead of BEGIN, the statement, the
 * audit row and COMMIT (four round trips, a quarter of the CPU of POST /users). `ready` is asked
 * before the statement is sent and throws when the statement would leave something out (its audit
 * row); a second statement is refused, since it would not be atomic with the first.
 */
export interface SingleStatementWrite {
  readonly name: string;
  ready(text: string, values: readonly unknown[] | undefined): void;
}

/**
 * The guard of a single-statement write: its statement must carry the audit row the route gave it,
 * the SQL and the values at their parameter positions, not merely have asked for it.
 */
export function auditedStatement(name: string, audit: WriteAudit): SingleStatementWrite {
  return {
    name,
    ready: (text, values) => {
      const given = audit.givenInStatement;
      const carried =
        given !== undefined &&
        text.includes(given.part.sql) &&
        given.part.values.every((value, i) => values?.[given.firstParam - 1 + i] === value);
      if (!carried) throw new Error(`${name} is a single-statement write but its statement has no audit row`);
    },
  };
}

class OneStatement implements Queryable {
  private sent = false;

  constructor(
    private readonly db: Database,
    private readonly write: SingleStatementWrite,
  ) {}

  async query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    if (this.sent) {
      throw new Error(`${this.write.name} is a single-statement write but ran a second statement`);
    }
    this.write.ready(statementText(statement), values);
    this.sent = true;
    return this.db.query<R>(statement, values);
  }
}

interface StoredKey {
  request_hash: string;
  status: number;
  response: string;
}

/**
 * Idempotency keys of one service, in its `idempotency_keys` table (kit migration set
 * `idempotency`). A keyed write runs in one transaction that first inserts the key: a second
 * request with the same key waits for that transaction (its insert conflicts), then replays what it
 * committed; a write that fails rolls back with its key, so a retry runs it again.
 */
export class IdempotencyStore {
  private readonly waker = new Waker();
  private cleaning: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs `write` in a transaction (its audit row shares it), at most once per scope and key; without
   * a key, always, and for a `single` write without a transaction of its own (its one statement is
   * one). `scope` names the caller and the route (see `keyScope`): a key never reaches another
   * caller's stored response.
   */
  async run(
    scope: string,
    key: string | undefined,
    request: unknown,
    write: (q: Queryable) => Promise<RouteResult>,
    single?: SingleStatementWrite,
  ): Promise<RouteResult> {
    const done =
      key === undefined
        ? single
          ? { result: await write(new OneStatement(this.db, single)), onCommit: [] }
          : await this.db.transaction(async (client) => {
              const tx = new KeyTransaction(client);
              return { result: await write(tx), onCommit: tx.onCommit };
            })
        : await this.keyed(
            scope,
            key,
            createHash("sha256").update(JSON.stringify(request)).digest("hex"),
            write,
          );
    for (const callback of done.onCommit) callback();
    return done.result;
  }

  /** The write in the key's transaction, or the stored response; then the callbacks to run after commit. */
  private async keyed(
    route: string,
    key: string,
    requestHash: string,
    write: (q: Queryable) => Promise<RouteResult>,
  ): Promise<{ result: RouteResult; onCommit: ReadonlyArray<() => void> }> {
    try {
      return await this.db.transaction(async (client) => {
        const tx = new KeyTransaction(client);
        const { rows } = await tx.query<{ previous: string }>(
          "SELECT current_setting('lock_timeout') AS previous, set_config('lock_timeout', $1, true)",
          [KEY_WAIT],
        );
        const claimed = await tx.query(
          `INSERT INTO idempotency_keys (route, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING`,
          [route, key, requestHash],
        );
        if (claimed.rowCount === 0) {
          return { result: await this.replay(tx, route, key, requestHash), onCommit: [] };
        }
        // The key wait bounds waiting for the key only: the write's own lock waits are not "in progress".
        await tx.query("SELECT set_config('lock_timeout', $1, true)", [rows[0]?.previous ?? "0"]);
        const result = await write(tx);
        await tx.query(
          "UPDATE idempotency_keys SET status = $3, response = $4 WHERE route = $1 AND key = $2",
          [route, key, result.status, JSON.stringify(result.body)],
        );
        return { result, onCommit: tx.onCommit };
      });
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      throw AppError.conflict("a request with this Idempotency-Key is still in progress; retry later", [
        { field: "idempotency-key", message: "in progress" },
      ]);
    }
  }

  private async replay(tx: Queryable, route: string, key: string, requestHash: string): Promise<RouteResult> {
    const { rows } = await tx.query<StoredKey>(
      "SELECT request_hash, status, response FROM idempotency_keys WHERE route = $1 AND key = $2",
      [route, key],
    );
    const stored = rows[0];
    // Gone between the conflict and this read: the cleanup removed it; the client may retry.
    if (stored === undefined) {
      throw AppError.conflict("this Idempotency-Key was just released; retry", [
        { field: "idempotency-key", message: "released" },
      ]);
    }
    if (stored.request_hash !== requestHash) {
      throw AppError.unprocessable("this Idempotency-Key was used with a different request body", [
        { field: "idempotency-key", message: "reused with a different body" },
      ]);
    }
    return {
      status: stored.status,
      body: JSON.parse(stored.response),
      headers: { "Idempotent-Replayed": "true" },
    };
  }

  /** Deletes keys past their retention, in batches; returns how many. */
  async cleanup(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const { rowCount } = await this.db.query(
        `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM idempotency_keys
            WHERE created_at < now() - make_interval(hours => $1) LIMIT $2))`,
        [IDEMPOTENCY_RETENTION_HOURS, CLEANUP_BATCH],
      );
      deleted += rowCount ?? 0;
      if ((rowCount ?? 0) < CLEANUP_BATCH) return deleted;
    }
  }

  /** The component that runs the cleanup at start and every ten minutes. */
  component(): Component {
    return {
      name: "idempotency-cleanup",
      start: async () => {
        this.stopping = false;
        this.cleaning = this.cleanupLoop();
      },
      stop: async () => {
        this.stopping = true;
        this.waker.wake();
        await this.cleaning;
      },
    };
  }

  private async cleanupLoop(): Promise<void> {
    while (!this.stopping) {
      await this.cleanup().catch((error: unknown) =>
        this.logger.warn({ err: error }, "idempotency key cleanup failed; retrying at the next interval"),
      );
      await this.waker.sleep(CLEANUP_INTERVAL_MS);
    }
  }
}

type IdempotentRouteSpec<B, P, Q> = Omit<
  RouteSpec,
  "handler" | "headers" | "body" | "params" | "query" | "access" | "audit"
> & {
  readonly body?: B;
  readonly params?: P;
  readonly query?: Q;
  readonly access: RouteAccess<B, P, Q>;
  /** What the write changes; its audit row is written in the write's transaction. */
  readonly audit: RouteAudit;
  /**
   * The handler writes everything, its audit row included (`context.audit.inStatement`), in one
   * statement on `q`: without an Idempotency-Key it then runs with no BEGIN and COMMIT around it.
   * A second statement, or a statement without the audit row, fails before it is sent.
   * @default false
   */
  readonly singleStatement?: boolean;
  /** The write, with `q` to run its queries on (the key's transaction when a key was sent). */
  handler(
    input: RouteInput<B, P, Q, typeof IdempotencyHeaders>,
    context: RouteContext,
    q: Queryable,
  ): Promise<RouteResult>;
};

/**
 * The `route` column of a key: the caller's token subject, method and path, so that two callers
 * sending the same key neither replay each other's response nor block each other's write. A JSON
 * array cannot equal the plain "METHOD /path" rows that replicas from before this scope still write
 * during a rolling deploy, so old and new rows never meet; a key stored before the change is not
 * replayed (its caller is unknown), so a retry of it within the retention runs the write again.
 */
export function keyScope(callerSub: string, method: string, path: string): string {
  return JSON.stringify([callerSub, method, path]);
}

const KEY_RESPONSES = {
  409: "a request with the same Idempotency-Key is in progress",
  422: "Idempotency-Key reused with a different body",
} as const;

/**
 * A write route that honours the `Idempotency-Key` header (declared in its OpenAPI document with
 * the 409 and 422 it can cause), scoped to the caller, its method and path, and records its audit row in the
 * write's transaction: the row commits with the change or rolls back with it. A replay writes
 * nothing and so records nothing; the first request's row stands for it.
 */
export function idempotentRoute<
  B extends z.ZodType | undefined = undefined,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
>(store: IdempotencyStore, spec: IdempotentRouteSpec<B, P, Q>): RouteSpec {
  const responses = { ...spec.responses };
  for (const [status, description] of Object.entries(KEY_RESPONSES)) {
    const own = responses[Number(status)];
    responses[Number(status)] = { description: own ? `${own.description}; or ${description}` : description };
  }
  return defineRoute<B, P, Q, typeof IdempotencyHeaders>({
    ...spec,
    headers: IdempotencyHeaders,
    responses,
    handler: (input, context) =>
      store.run(
        keyScope(context.caller.sub, spec.method, spec.path),
        input.headers["idempotency-key"],
        input.body,
        async (q) => {
          const result = await spec.handler(input, context, q);
          if (!context.audit.givenInStatement) await context.audit.succeeded(q, result);
          return result;
        },
        spec.singleStatement ? auditedStatement(spec.operationId, context.audit) : undefined,
      ),
  });
}
