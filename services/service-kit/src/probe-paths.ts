/**
 * Paths that probes and scrapes request many times a minute: they get no request log line and no
 * trace, which would otherwise drown the requests people make.
 */
export const PROBE_PATHS: ReadonlySet<string> = new Set(["/health", "/ready", "/metrics"]);
