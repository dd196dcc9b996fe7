import express, { type Request, type RequestHandler, type Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { expressPath, type HttpMethod, type RouteEntry } from "./catalog";
import { AppError, fieldErrors } from "./errors";

/** What a handler returns: the status, the JSON body and any response headers to send. */
export interface RouteResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteContext {
  readonly log: Logger;
  readonly requestId: string;
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

/**
 * Mounts routes on a router. Routes with a body get their own JSON parser so that body errors
 * (413, malformed JSON) are counted under the route's template, not as unmatched.
 */
export function mountRoutes(router: Router, routes: readonly RouteSpec[], bodyLimit: string): void {
  const json = express.json({ limit: bodyLimit, type: "application/json" });
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
  for (const route of routes) {
    const handler: RequestHandler = async (req, res) => {
      const input = {
        params: route.params ? parse(route.params, req.params, "path parameter") : undefined,
        query: route.query ? parse(route.query, req.query, "query parameter") : undefined,
        headers: route.headers ? parse(route.headers, req.headers, "header") : undefined,
        body: route.body ? parse(route.body, req.body, "request body") : undefined,
      };
      const log = (req as unknown as { log: Logger }).log;
      const result = await route.handler(input as never, { log, requestId: String(req.id) });
      res
        .status(result.status)
        .set(result.headers ?? {})
        .json(result.body);
    };
    const chain = route.body ? [requireJson, json, handler] : [handler];
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

const PLATFORM_PATHS: JsonSchema = {
  "/health": {
    get: {
      operationId: "health",
      summary: "Liveness: the process answers",
      tags: ["platform"],
      responses: { "200": { description: "alive" } },
    },
  },
  "/ready": {
    get: {
      operationId: "ready",
      summary: "Readiness: PostgreSQL and Kafka answer and the service is not draining",
      tags: ["platform"],
      responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
    },
  },
  "/metrics": {
    get: {
      operationId: "metrics",
      summary: "Prometheus metrics",
      tags: ["platform"],
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
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonSchema>)[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
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
    components: { schemas: { Problem: problemSchema } },
  };
}
