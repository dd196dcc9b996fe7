import { randomBytes } from "node:crypto";
import { eventually } from "./environment";

/** The Zipkin server the services export to (`npm run deps:up` starts one). */
export const ZIPKIN_URL = (process.env.ZIPKIN_URL ?? "http://127.0.0.1:9411").replace(/\/+$/, "");

/** A span as Zipkin's v2 API returns it (times in microseconds). */
export interface ZipkinSpan {
  readonly traceId: string;
  readonly id: string;
  readonly parentId?: string;
  readonly name: string;
  readonly kind?: "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";
  readonly timestamp: number;
  readonly duration?: number;
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Service settings that send spans to the Zipkin server, exported every 200 ms, and continue the
 * trace a test's request starts (`newTraceparent`), as a trusted front would.
 */
export function tracingEnv(): NodeJS.ProcessEnv {
  return {
    OTEL_TRACES_EXPORTER: "zipkin",
    OTEL_TRACE_INBOUND_CONTEXT: "continue",
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${ZIPKIN_URL}/api/v2/spans`,
    OTEL_BSP_SCHEDULE_DELAY: "200",
  };
}

/** A new sampled W3C trace context for a request: its trace id and the `traceparent` header. */
export function newTraceparent(): { traceId: string; parentId: string; traceparent: string } {
  const traceId = randomBytes(16).toString("hex");
  const parentId = randomBytes(8).toString("hex");
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

/** The spans of trace `traceId` as Zipkin has them now (none while it has none). */
export async function traceSpans(traceId: string): Promise<ZipkinSpan[]> {
  const res = await fetch(`${ZIPKIN_URL}/api/v2/trace/${traceId}`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Zipkin answered ${res.status} for trace ${traceId}: ${await res.text()}`);
  return (await res.json()) as ZipkinSpan[];
}

/** The ids of the traces whose spans carry tag `name` with `value`, as Zipkin has them now. */
export async function tracesTagged(name: string, value: string): Promise<string[]> {
  const query = new URLSearchParams({ annotationQuery: `${name}=${value}`, lookback: String(3_600_000) });
  const res = await fetch(`${ZIPKIN_URL}/api/v2/traces?${query}`);
  if (!res.ok) throw new Error(`Zipkin answered ${res.status} for tag ${name}: ${await res.text()}`);
  return [...new Set(((await res.json()) as ZipkinSpan[][]).flatMap((t) => t.map((s) => s.traceId)))];
}

/** Waits until trace `traceId` holds spans that `complete` accepts, and returns them. */
export function waitForTrace(
  traceId: string,
  complete: (spans: readonly ZipkinSpan[]) => boolean,
  timeoutMs = 30_000,
): Promise<ZipkinSpan[]> {
  return eventually(
    `trace ${traceId} in Zipkin`,
    async () => {
      const spans = await traceSpans(traceId);
      return complete(spans) ? spans : undefined;
    },
    timeoutMs,
    250,
  );
}

/** The first span of `service` with `kind` whose name starts with `name`. */
export function findSpan(
  spans: readonly ZipkinSpan[],
  service: string,
  kind: ZipkinSpan["kind"],
  name: string,
): ZipkinSpan | undefined {
  return spans.find(
    (s) => s.localEndpoint?.serviceName === service && s.kind === kind && s.name.startsWith(name),
  );
}
