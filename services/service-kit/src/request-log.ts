import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { redactedUrl } from "./redacted-url";

declare module "http" {
  interface IncomingMessage {
    /** The request id: the caller's `x-request-id` when well formed, otherwise a new UUID. */
    id: string;
  }
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const ROOT = Symbol("service logger");
const CHILD = Symbol("request logger");

/** A request as `requestLogs` saw it: the service's logger, and the request's once asked for. */
interface LoggedRequest extends IncomingMessage {
  [ROOT]?: Logger;
  [CHILD]?: Logger;
  originalUrl?: string;
}

/** The `req` field of a request's log lines. */
function requestFields(req: LoggedRequest) {
  return { id: req.id, method: req.method, url: redactedUrl(req.originalUrl ?? req.url ?? "") };
}

/**
 * The logger for lines about one request: each carries the request's `req` field. Made on first
 * use, since most requests log only their completion line; undefined where `requestLogs` did not run.
 */
export function requestLogger(req: IncomingMessage): Logger | undefined {
  const logged = req as LoggedRequest;
  if (logged[CHILD] === undefined) logged[CHILD] = logged[ROOT]?.child({ req: requestFields(logged) });
  return logged[CHILD];
}

export interface RequestLogOptions {
  readonly logger: Logger;
  /** The route template that served the request, known once it is done. */
  readonly route: (req: Request) => string;
  /** Requests with no completion line (probes, scrapes). */
  readonly ignore: (req: Request) => boolean;
}

/**
 * Gives each request its id (echoed in `x-request-id`) and logs one line when its response is
 * done or the connection closes first: `req` (id, method, redacted URL), `res.status`,
 * `responseTime` in ms and `route`; at info, warn for a 4xx, error with `err` for a 5xx. The
 * message says `request aborted` when the client left before the response was sent.
 */
export function requestLogs(options: RequestLogOptions): RequestHandler {
  const { logger } = options;
  return (req, res, next) => {
    const incoming = req.headers["x-request-id"];
    req.id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader("x-request-id", req.id);
    (req as LoggedRequest)[ROOT] = logger;
    if (!options.ignore(req)) {
      const started = Date.now();
      const done = (error?: Error) => {
        res.off("finish", done).off("close", done).off("error", done);
        logCompletion(options, req, res, Date.now() - started, error);
      };
      res.on("finish", done).on("close", done).on("error", done);
    }
    next();
  };
}

function logCompletion(
  options: RequestLogOptions,
  req: Request,
  res: Response,
  responseTime: number,
  error: Error | undefined,
): void {
  const fields = requestFields(req);
  const route = options.route(req);
  if (error || res.statusCode >= 500) {
    const err = error ?? new Error(`failed with status code ${res.statusCode}`);
    options.logger.error(
      { req: fields, res: { status: res.statusCode }, err, responseTime, route },
      "request errored",
    );
    return;
  }
  const line = { req: fields, res: { status: res.statusCode }, responseTime, route };
  const message = !req.readableAborted && res.writableEnded ? "request completed" : "request aborted";
  if (res.statusCode >= 400) options.logger.warn(line, message);
  else options.logger.info(line, message);
}
