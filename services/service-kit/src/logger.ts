import pino, { type Logger } from "pino";
import { traceFields } from "./trace-context";

export type { Logger };

/** JSON logs on stdout, one line per event, with the service name and the active trace on every line. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
    redact: {
      paths: ["req.headers.authorization", "req.headers.cookie", "*.password"],
      censor: "[redacted]",
    },
  });
}
