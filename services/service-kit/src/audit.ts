import { z } from "zod";
import type { ServiceEntry } from "./catalog";
import type { Database, Queryable, StatementPart } from "./database";
import { AppError } from "./errors";
import { defineRoute, type RouteSpec } from "./routes";

/**
 * What became of a write: `succeeded` is recorded in the write's own transaction (so it exists
 * exactly when the change does); the others are recorded after the write's transaction rolled
 * back, in a transaction of their own: `denied` (403), `rejected` (another 4xx: invalid, conflict,
 * unknown user), `failed` (5xx; recorded only if the database still answers).
 */
export const AUDIT_OUTCOMES = ["succeeded", "denied", "rejected", "failed"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One audit row to write. */
export interface AuditEntry {
  /** The token subject of the caller. */
  readonly actor: string;
  /** The route's operationId, such as `createUser`. */
  readonly action: string;
  readonly resourceType: string;
  /** The id of what was changed; null when nothing was (a refused create). */
  readonly resourceId: string | null;
  readonly outcome: AuditOutcome;
  readonly status: number;
  readonly requestId: string;
}

/** An audit row as `GET <prefix>/audit` lists it. */
export interface AuditRecord {
  readonly id: string;
  readonly occurred_at: string;
  readonly actor: string;
  readonly action: string;
  readonly resource_type: string;
  readonly resource_id: string | null;
  readonly outcome: AuditOutcome;
  readonly status: number;
  readonly request_id: string;
}

export interface AuditQuery {
  readonly actor?: string;
  readonly resourceId?: string;
  /** Rows after this id (exclusive), oldest first. */
  readonly afterId?: string;
  readonly limit: number;
}

const COLUMNS =
  "id::text, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS occurred_at, " +
  "actor, action, resource_type, resource_id, outcome, status, request_id";

/**
 * `INSERT INTO audit_log ...` for one entry with parameters from `$firstParam`: on its own, or as
 * a CTE of the statement that makes the change it records (one round trip, one implicit transaction).
 */
export function auditInsert(entry: AuditEntry, firstParam = 1): StatementPart {
  const values = [
    entry.actor,
    entry.action,
    entry.resourceType,
    entry.resourceId,
    entry.outcome,
    entry.status,
    entry.requestId,
  ];
  const placeholders = values.map((_, i) => `$${firstParam + i}`).join(", ");
  return {
    sql: `INSERT INTO audit_log (actor, action, resource_type, resource_id, outcome, status, request_id) VALUES (${placeholders})`,
    values,
  };
}

/**
 * The service's audit log, table `audit_log` in its own schema (kit migration set `audit`). The
 * service's role may insert and read rows, not update or delete them.
 */
export class AuditLog {
  constructor(readonly db: Database) {}

  /** Writes one row on `q`: the write's transaction for a success, the pool for a refusal. */
  async insert(q: Queryable, entry: AuditEntry): Promise<void> {
    const { sql, values } = auditInsert(entry);
    await q.query(sql, values);
  }

  /** Rows oldest first: by the bigint column, not the `id` output column, which is text (10 sorts before 9). */
  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const { rows } = await this.db.query<AuditRecord>(
      `SELECT ${COLUMNS} FROM audit_log
        WHERE ($1::text IS NULL OR actor = $1)
          AND ($2::text IS NULL OR resource_id = $2)
          AND ($3::bigint IS NULL OR id > $3)
        ORDER BY audit_log.id LIMIT $4`,
      [query.actor ?? null, query.resourceId ?? null, query.afterId ?? null, query.limit],
    );
    return rows;
  }
}

const MAX_PAGE = 100;

/** Cursors are opaque to clients: the last row's id, base64url-encoded. */
function encodeCursor(id: string): string {
  return Buffer.from(`audit:${id}`).toString("base64url");
}

function decodeCursor(cursor: string): string {
  const match = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match?.[1])
    throw AppError.badRequest("invalid cursor", [{ field: "cursor", message: "not a cursor" }]);
  return match[1];
}

const AuditFilter = z.strictObject({
  actor: z.string().min(1).max(255).optional().describe("Only rows of this caller (token subject)."),
  resource_id: z.string().min(1).max(255).optional().describe("Only rows about this resource id."),
  cursor: z.string().min(1).max(64).optional().describe("next_cursor of the previous page."),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE)
    .default(50)
    .describe(`Rows per page, at most ${MAX_PAGE}.`),
});

const AuditRow = z.object({
  id: z.string(),
  occurred_at: z.iso.datetime(),
  actor: z.string(),
  action: z.string().describe("operationId of the write."),
  resource_type: z.string(),
  resource_id: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  status: z.int(),
  request_id: z.string(),
});

const AuditPage = z.object({
  items: z.array(AuditRow),
  next_cursor: z.string().nullable().describe("Null on the last page."),
});

/** The path of a service's audit log: under its prefix, where the load balancer sends its requests. */
export function auditPath(entry: ServiceEntry): string {
  return `${entry.pathPrefix}/audit`;
}

/** `GET <prefix>/audit`: the service's audit log, oldest first, filtered by actor and resource, in pages. */
export function auditRoute(entry: ServiceEntry, log: AuditLog): RouteSpec {
  return defineRoute({
    method: "GET",
    path: auditPath(entry),
    operationId: "listAudit",
    summary: `The audit log of ${entry.name}'s writes, oldest first`,
    tags: ["audit"],
    query: AuditFilter,
    access: { scope: "audit:read" },
    responses: { 200: { description: "one page of audit rows", schema: AuditPage } },
    handler: async ({ query }) => {
      const rows = await log.list({
        actor: query.actor,
        resourceId: query.resource_id,
        afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
        limit: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        status: 200,
        body: { items: page, next_cursor: rows.length > query.limit && last ? encodeCursor(last.id) : null },
      };
    },
  });
}
