import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import type { z } from "zod";
import { DatabaseBusy, isConnectionError, isStatementTimeout, StaleStatement } from "./database";
import { requestLogger } from "./request-log";

/** One problem with one input field; `field` is a dotted path such as `items.0.quantity`. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/**
 * The one application error type. Use cases throw it with the HTTP status a client should see;
 * anything else reaching the error handler is a bug and becomes a 500 without details.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldError[] = [],
    /** Response headers that belong to the error, such as the `WWW-Authenticate` challenge of a 401. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  static badRequest(message: string, fields: readonly FieldError[] = []): AppError {
    return new AppError(400, "invalid_request", message, fields);
  }

  static notFound(what: string): AppError {
    return new AppError(404, "not_found", `${what} not found`);
  }

  static conflict(message: string, fields: readonly FieldError[] = []): AppError {
    return new AppError(409, "conflict", message, fields);
  }

  static unprocessable(message: string, fields: readonly FieldError[] = []): AppError {
    return new AppError(422, "unprocessable", message, fields);
  }

  static unavailable(message: string): AppError {
    return new AppError(503, "unavailable", message);
  }
}

/** Field-level messages from a zod error; unknown keys become one entry per key. */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== undefined && p !== "");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: [...base, key].join("."), message: "unknown field" }));
    }
    return [{ field: base.join(".") || "(body)", message: issue.message }];
  });
}

/** JSON body of every error response (RFC 9457 problem details plus the field list and request id). */
export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly request_id?: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Seconds a client should wait before retrying a 503 (the database restarting or unreachable). */
export const RETRY_AFTER_SECONDS = 2;

/**
 * Errors Express and its middleware raise for a bad request (http-errors from body-parser, the
 * router's URIError for a path that is not valid percent-encoding), carrying a 4xx `status`.
 */
interface ClientRequestError {
  status: number;
  type?: string;
  limit?: number;
}

function isClientRequestError(error: unknown): error is ClientRequestError {
  if (typeof error !== "object" || error === null || !("status" in error)) return false;
  const { status } = error as { status: unknown };
  return typeof status === "number" && status >= 400 && status < 500;
}

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22) reject a value the request carried that the
 * schema let through, such as a NUL character in a string: the client's mistake, not a 500.
 */
function isDataException(error: unknown): error is { code: string; message: string } {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === "string" && code.startsWith("22") && typeof message === "string";
}

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof DatabaseBusy) return new AppError(503, "overloaded", error.message);
  // PostgreSQL restarting or unreachable is not the request's fault: 503, retry shortly.
  if (isConnectionError(error) || error instanceof StaleStatement) {
    return AppError.unavailable("the database is unavailable; retry shortly");
  }
  if (isStatementTimeout(error))
    return AppError.unavailable("the database did not finish in time and nothing was written; retry shortly");
  if (isDataException(error)) return AppError.badRequest(`a value cannot be stored: ${error.message}`);
  if (!isClientRequestError(error)) return undefined;
  if (error instanceof URIError)
    return new AppError(400, "malformed_path", "the path is not valid percent-encoding");
  switch (error.type) {
    case "entity.parse.failed":
      return new AppError(400, "malformed_json", "request body is not valid JSON");
    case "entity.too.large":
      return new AppError(413, "body_too_large", `request body exceeds the limit of ${error.limit} bytes`);
    case "encoding.unsupported":
    case "charset.unsupported":
      return new AppError(415, "unsupported_encoding", "request body encoding or charset is not supported");
    case "request.aborted":
      return new AppError(400, "request_aborted", "request was aborted by the client");
    default:
      return new AppError(error.status, "bad_request", TITLES[error.status] ?? "the request was rejected");
  }
}

/** The status the error handler answers `error` with. */
export function errorStatus(error: unknown): number {
  return toAppError(error)?.status ?? 500;
}

export function sendProblem(
  res: Parameters<RequestHandler>[1],
  status: number,
  code: string,
  detail: string,
  fields: readonly FieldError[] = [],
): void {
  const requestId = res.getHeader("x-request-id");
  const problem: Problem = {
    status,
    code,
    title: TITLES[status] ?? "Error",
    detail,
    ...(fields.length > 0 ? { errors: fields } : {}),
    ...(typeof requestId === "string" ? { request_id: requestId } : {}),
  };
  res.status(status).type("application/problem+json").json(problem);
}

/** 404 for paths no route matches. */
export const notFoundHandler: RequestHandler = (_req, res) => {
  sendProblem(res, 404, "not_found", "no such endpoint");
};

/** 405 for a path that exists with other methods; `Allow` lists them (HEAD where GET is). */
export function methodNotAllowedHandler(methods: readonly string[]): RequestHandler {
  const allow = [...new Set(methods.flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m])))].join(", ");
  return (req, res) => {
    res.setHeader("allow", allow);
    sendProblem(res, 405, "method_not_allowed", `${req.method} is not allowed here; allowed: ${allow}`);
  };
}

/**
 * The one error handler: application and body-parser errors become their 4xx with field-level
 * messages; everything else is logged with its stack and answered with a bare 500 (counted in
 * service_errors_total by the HTTP metrics, like every 5xx).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = toAppError(error);
    const log = requestLogger(req) ?? logger;
    if (known) res.set(known.headers);
    if (known && known.status < 500) {
      sendProblem(res, known.status, known.code, known.message, known.fields);
      return;
    }
    if (known) {
      log.warn({ err: error }, known.message);
      if (known.status === 503) res.setHeader("retry-after", String(RETRY_AFTER_SECONDS));
      sendProblem(res, known.status, known.code, known.message);
      return;
    }
    log.error({ err: error }, "unhandled error");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, 500, "internal", "internal error; the request id identifies it in the logs");
  };
}
