import express, { type Request, type RequestHandler, type Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { type AuditLog, type AuditOutcome, auditInsert } from "./audit";
import { authenticate, type Caller, callerOf, forbidden, type TokenVerifier } from "./auth";
import { AUTH_SCOPES, type AuthScope, expressPath, type HttpMethod, type RouteEntry } from "./catalog";
import type { Queryable, StatementPart } from "./database";
import { AppError, errorStatus, fieldErrors } from "./errors";
import { requestLogger } from "./request-log";

/** What a handler returns: the status, the JSON body and any response headers to send. */
export interface RouteResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteContext {
  readonly log: Logger;
  readonly requestId: string;
  /** Who sent the request (its token's subject and scopes). */
  readonly caller: Caller;
  /** Records the audit row of a successful write, on the write's own transaction. */
  readonly audit: WriteAudit;
}

/**
 * The succeeded-audit row of one write request: written by `idempotentRoute` inside the write's
 * transaction, or by the handler itself as part of its one statement (`inStatement`).
 */
export interface WriteAudit {
  succeeded(q: Queryable, result: RouteResult): Promise<void>;
  /**
   * The succeeded row as a CTE of the write's own statement, for a write that is one statement
   * (`singleStatement`): it commits with the change or not at all, and `succeeded` is then skipped.
   */
  inStatement(resourceId: string | null, status: number, firstParam: number): StatementPart;
  /** The row `inStatement` gave the handler's statement, once it did. */
  readonly givenInStatement: GivenAuditPart | undefined;
}

/** An audit row as part of a write's own statement: its SQL and values, from parameter `firstParam` on. */
export interface GivenAuditPart {
  readonly part: StatementPart;
  readonly firstParam: number;
}

type Fields<S> = S extends z.ZodType ? keyof z.output<S> & string : never;

/**
 * Where the id of the user a request is about is: a request input field, or for a read whose owner
 * is known only once loaded, a field of the response body.
 */
export type OwnerField<B = unknown, P = unknown, Q = unknown> =
  | { readonly params: Fields<P> }
  | { readonly query: Fields<Q> }
  | { readonly body: Fields<B> }
  | { readonly response: string };

/**
 * Who may call a route: callers holding `scope`, and, when `owner` is given, a caller whose token
 * subject is the user the request is about (its own record, orders, notifications).
 */
export interface RouteAccess<B = unknown, P = unknown, Q = unknown> {
  readonly scope: AuthScope;
  readonly owner?: OwnerField<B, P, Q>;
}

/** What a write changes, for its audit row: the resource type and the response field holding its id. */
export interface RouteAudit {
  readonly resource: string;
  readonly idField: string;
}

export interface RouteResponse {
  readonly description: string;
  /** Body schema; error statuses omit it and get the shared problem schema. */
  readonly schema?: z.ZodType;
}

type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

/** A handler's validated input. */
export interface RouteInput<B, P, Q, H = undefined> {
  readonly body: Input<B>;
  readonly params: Input<P>;
  readonly query: Input<Q>;
  readonly headers: Input<H>;
}

/**
 * One HTTP operation, declared once: the zod schemas here validate requests at run time and
 * generate the OpenAPI document, so the two cannot drift apart. Method and path are one of the
 * service's catalog routes; the service does not start otherwise.
 */
export interface RouteSpec<
  B extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodObject | undefined = z.ZodObject | undefined,
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
  H extends z.ZodObject | undefined = z.ZodObject | undefined,
> extends RouteEntry {
  readonly operationId: string;
  readonly summary: string;
  readonly tags?: readonly string[];
  readonly body?: B;
  readonly params?: P;
  readonly query?: Q;
  /** Request headers the handler reads (names lower-case); documented as header parameters. */
  readonly headers?: H;
  /** Required: every business route says who may call it (there are no anonymous ones). */
  readonly access: RouteAccess<B, P, Q>;
  /** Required on writes (every method but GET): what the audit row of the change names. */
  readonly audit?: RouteAudit;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  handler(input: RouteInput<B, P, Q, H>, context: RouteContext): Promise<RouteResult>;
}

/** Declares a route with its handler's input types inferred from its schemas. */
export function defineRoute<
  B extends z.ZodType | undefined = undefined,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  H extends z.ZodObject | undefined = undefined,
>(spec: RouteSpec<B, P, Q, H>): RouteSpec {
  return spec as unknown as RouteSpec;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string, prefix?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw AppError.badRequest(`invalid ${where}`, fieldErrors(result.error, prefix));
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0";
}

const ROUTER_METHODS = {
  GET: "get",
  POST: "post",
  PUT: "put",
  PATCH: "patch",
  DELETE: "delete",
} as const satisfies Record<HttpMethod, keyof Router>;

/** How mounted routes authenticate callers and record writes. */
export interface MountOptions {
  readonly bodyLimit: string;
  readonly verifier: TokenVerifier;
  /** Realm of the `WWW-Authenticate` challenges: the service name. */
  readonly realm: string;
  /** Where writes are audited; required when any route writes. */
  readonly audit?: AuditLog;
}

function ownerField(owner: OwnerField<z.ZodType, z.ZodObject, z.ZodObject>): {
  from: "params" | "query" | "body" | "response";
  field: string;
} {
  const [from, field] = Object.entries(owner)[0] as ["params" | "query" | "body" | "response", string];
  return { from, field };
}

function fieldOf(value: unknown, field: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined;
}

/**
 * Runs the handler if the caller may: with the route's scope always; as the owner when the user the
 * request is about is the token's subject. An owner read of a resource it does not own, or of one that
 * does not exist, is the same 403, so that a caller without the scope learns nothing of others' ids.
 */
async function authorized(
  route: RouteSpec,
  caller: Caller,
  input: Record<"params" | "query" | "body", unknown>,
  realm: string,
  run: () => Promise<RouteResult>,
): Promise<RouteResult> {
  const { scope, owner } = route.access;
  if (caller.scopes.has(scope)) return run();
  const denied = forbidden(realm, scope, owner !== undefined);
  if (!owner) throw denied;
  const { from, field } = ownerField(owner);
  if (from !== "response") {
    if (fieldOf(input[from], field) === caller.sub) return run();
    throw denied;
  }
  let result: RouteResult;
  try {
    result = await run();
  } catch (error) {
    throw error instanceof AppError && error.status === 404 ? denied : error;
  }
  if (fieldOf(result.body, field) !== caller.sub) throw denied;
  return result;
}

function outcomeOf(status: number): AuditOutcome {
  if (status === 403) return "denied";
  return status < 500 ? "rejected" : "failed";
}

/** The request's logger; routes are served by `createHttpApp`, whose request logs make it. */
function logOf(req: Request): Logger {
  const log = requestLogger(req);
  if (!log) throw new Error("routes need the request logs of createHttpApp");
  return log;
}

/**
 * Mounts routes on a router. Each route first authenticates the caller (401 before anything is
 * parsed); routes with a body then get their own JSON parser so that body errors (413, malformed
 * JSON) are counted under the route's template, not as unmatched. Writes end with an error step
 * that records every refused or failed write of an authenticated caller in the audit log, in its
 * own transaction (the write's own transaction, and its audit row, rolled back).
 */
export function mountRoutes(router: Router, routes: readonly RouteSpec[], options: MountOptions): void {
  const json = express.json({ limit: options.bodyLimit, type: "application/json" });
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!hasBody(req)) {
      next(
        AppError.badRequest("a JSON request body is required", [{ field: "(body)", message: "required" }]),
      );
    } else if (!req.is("application/json")) {
      next(
        new AppError(
          415,
          "unsupported_media_type",
          `content type must be application/json, got ${req.headers["content-type"] ?? "none"}`,
        ),
      );
    } else next();
  };
  const auth = authenticate(options.verifier, options.realm);
  // Static paths before templated ones, so that `/users/audit` is not taken for `/users/{id}`.
  const ordered = [...routes].sort((a, b) => a.path.split("{").length - b.path.split("{").length);
  for (const route of ordered) {
    const writes = route.method !== "GET";
    // The response rule decides after the handler ran: for a write, after another user's data changed.
    if (writes && route.access.owner && ownerField(route.access.owner).from === "response") {
      throw new Error(
        `${route.method} ${route.path} writes: its owner must be found in the request (params, query or body), not the response`,
      );
    }
    const audit = route.audit;
    const log = options.audit;
    if (writes && (!audit || !log)) {
      throw new Error(`${route.method} ${route.path} writes: it needs an audit declaration and an audit log`);
    }
    const handler: RequestHandler = async (req, res) => {
      const caller = callerOf(res);
      // Without the scope and with no owner rule, nothing in the request can grant it: refuse before parsing.
      if (!route.access.owner && !caller.scopes.has(route.access.scope)) {
        throw forbidden(options.realm, route.access.scope, false);
      }
      const input = {
        params: route.params ? parse(route.params, req.params, "path parameter") : undefined,
        query: route.query ? parse(route.query, req.query, "query parameter") : undefined,
        headers: route.headers ? parse(route.headers, req.headers, "header") : undefined,
        body: route.body ? parse(route.body, req.body, "request body") : undefined,
      };
      const requestId = String(req.id);
      const succeededEntry = (resourceId: unknown, status: number) => {
        if (!audit || !log) throw new Error(`${route.operationId} is not a write; it has no audit row`);
        return {
          actor: caller.sub,
          action: route.operationId,
          resourceType: audit.resource,
          resourceId: typeof resourceId === "string" ? resourceId : null,
          outcome: "succeeded" as const,
          status,
          requestId,
        };
      };
      let givenInStatement: GivenAuditPart | undefined;
      const context: RouteContext = {
        get log() {
          return logOf(req);
        },
        requestId,
        caller,
        audit: {
          succeeded: async (q, result) => {
            const entry = succeededEntry(fieldOf(result.body, audit?.idField ?? ""), result.status);
            await log?.insert(q, entry);
          },
          inStatement: (resourceId, status, firstParam) => {
            const part = auditInsert(succeededEntry(resourceId, status), firstParam);
            givenInStatement = { part, firstParam };
            return part;
          },
          get givenInStatement() {
            return givenInStatement;
          },
        },
      };
      const result = await authorized(route, caller, input, options.realm, () =>
        route.handler(input as never, context),
      );
      res
        .status(result.status)
        .set(result.headers ?? {})
        .json(result.body);
    };
    const recordRefused: express.ErrorRequestHandler = (error, req, res, next) => {
      const caller = (res.locals as { caller?: Caller }).caller;
      if (!caller || !audit || !log) {
        next(error);
        return;
      }
      const status = errorStatus(error);
      log
        .insert(log.db, {
          actor: caller.sub,
          action: route.operationId,
          resourceType: audit.resource,
          resourceId: null,
          outcome: outcomeOf(status),
          status,
          requestId: String(req.id),
        })
        .catch((auditError: unknown) =>
          logOf(req).error({ err: auditError }, "could not record the refused write in the audit log"),
        )
        .finally(() => next(error));
    };
    const chain: Array<RequestHandler | express.ErrorRequestHandler> = [
      auth,
      ...(route.body ? [requireJson, json] : []),
      handler,
      ...(writes ? [recordRefused] : []),
    ];
    router[ROUTER_METHODS[route.method]](expressPath(route.path), ...chain);
  }
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodObject | undefined, location: "path" | "query" | "header"): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, "input");
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || required.has(name),
    ...(typeof property.description === "string" ? { description: property.description } : {}),
    schema: property,
  }));
}

const problemSchema: JsonSchema = {
  type: "object",
  required: ["status", "code", "title", "detail"],
  properties: {
    status: { type: "integer" },
    code: { type: "string" },
    title: { type: "string" },
    detail: { type: "string" },
    errors: {
      type: "array",
      items: {
        type: "object",
        required: ["field", "message"],
        properties: { field: { type: "string" }, message: { type: "string" } },
      },
    },
    request_id: { type: "string" },
  },
};

/** Name of the bearer token scheme in the OpenAPI documents. */
const SECURITY_SCHEME = "bearer";

/** Probes and metrics are public (load balancers and Prometheus call them without tokens). */
const PLATFORM_PATHS: JsonSchema = {
  "/health": {
    get: {
      operationId: "health",
      summary: "Liveness: the process answers",
      tags: ["platform"],
      security: [],
      responses: { "200": { description: "alive" } },
    },
  },
  "/ready": {
    get: {
      operationId: "ready",
      summary: "Readiness: PostgreSQL and Kafka answer and the service is not draining",
      tags: ["platform"],
      security: [],
      responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
    },
  },
  "/metrics": {
    get: {
      operationId: "metrics",
      summary: "Prometheus metrics",
      tags: ["platform"],
      security: [],
      responses: { "200": { description: "text exposition format" } },
    },
  },
};

/** The OpenAPI 3.1 document of a service, generated from the same route specs that serve requests. */
export function openApiDocument(info: OpenApiInfo, routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const responses: Record<string, JsonSchema> = {};
    const statuses = { ...route.responses };
    if (route.body || route.params || route.query || route.headers) {
      statuses[400] ??= { description: "invalid request" };
    }
    statuses[401] ??= { description: "no bearer token, or one that is malformed, expired or not ours" };
    statuses[403] ??= {
      description: `the token lacks scope ${route.access.scope}${route.access.owner ? " and is not the owner's" : ""}`,
    };
    if (route.body) {
      statuses[413] ??= { description: "body too large" };
      statuses[415] ??= { description: "content type is not application/json" };
    }
    for (const [status, response] of Object.entries(statuses)) {
      const isError = Number(status) >= 400;
      const schema = response.schema ? jsonSchema(response.schema, "output") : undefined;
      responses[status] = {
        description: response.description,
        ...(schema || isError
          ? {
              content: {
                [isError ? "application/problem+json" : "application/json"]: {
                  schema: schema ?? { $ref: "#/components/schemas/Problem" },
                },
              },
            }
          : {}),
      };
    }
    const owner = route.access.owner ? ownerField(route.access.owner) : undefined;
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonSchema>)[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(owner
        ? {
            description: `Needs scope ${route.access.scope}, or a token whose subject is the user named by ${owner.from === "response" ? "the response's" : `the ${owner.from === "params" ? "path" : owner.from}`} field ${owner.field}.`,
            "x-owner": { in: owner.from === "params" ? "path" : owner.from, name: owner.field },
          }
        : {}),
      security: [{ [SECURITY_SCHEME]: [route.access.scope] }],
      ...(route.tags ? { tags: route.tags } : {}),
      parameters: [
        ...parameters(route.params, "path"),
        ...parameters(route.query, "query"),
        ...parameters(route.headers, "header"),
      ],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(route.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info,
    paths: { ...paths, ...PLATFORM_PATHS },
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "An RS256 or ES256 access token from the environment's issuer. Each operation lists the scope it needs; " +
            `the scopes: ${Object.entries(AUTH_SCOPES)
              .map(([name, grants]) => `${name} (${grants})`)
              .join(", ")}.`,
        },
      },
    },
  };
}
