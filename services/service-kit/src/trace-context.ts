/**
 * Trace context across the event flow, on the OpenTelemetry API only (no SDK): without a started
 * SDK (`tracing.ts`; tests, `OTEL_TRACES_EXPORTER=none`) every function here is a cheap no-op.
 *
 * The W3C `traceparent` (and `tracestate`) of the request that wrote an event travels with its
 * outbox row and its Kafka message; each publish is a PRODUCER span, each handling a CONSUMER span
 * whose parent is the producing span (one trace from request to email, which a link alone would
 * split in two) and which also links to it, as the messaging conventions ask.
 */
import {
  type Context,
  context,
  defaultTextMapGetter,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  trace,
} from "@opentelemetry/api";

const tracer = trace.getTracer("@blueprint/service-kit");

/**
 * Reads the trace context outbox rows and Kafka messages carry. The global propagator may ignore
 * what requests carry (`OTEL_TRACE_INBOUND_CONTEXT`); events always continue their trace.
 */
let carrierPropagator: Pick<TextMapPropagator, "extract"> = propagation;

/** Set by `startTracing`: the propagator events are read with. */
export function setCarrierPropagator(propagator: Pick<TextMapPropagator, "extract">): void {
  carrierPropagator = propagator;
}

/** The W3C trace context headers a carrier may hold. */
const TRACE_HEADERS = ["traceparent", "tracestate"] as const;

/** `trace_id` and `span_id` of the active span, for every log line (pino's mixin); none without one. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * The trace context headers of `ctx` (by default the active one); empty when it carries no trace.
 * Only `traceparent` and `tracestate`, whatever propagator is set: a `baggage` a client sent would
 * otherwise be stored with the outbox row and sent with every Kafka message.
 */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const headers: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = carrier[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/**
 * The `trace_id` of the trace `headers` carry, for a log line written outside its spans (a retry,
 * an email not delivered); none when they carry none.
 */
export function traceIdFrom(headers: Readonly<Record<string, string | null | undefined>>): {
  trace_id?: string;
} {
  const carried = trace.getSpanContext(contextFrom(headers));
  return carried ? { trace_id: carried.traceId } : {};
}

/**
 * The context `headers` carry, or the root context when they carry none or a malformed one: a bad
 * header starts a new trace, it never fails the work it came with.
 */
export function contextFrom(headers: Readonly<Record<string, string | null | undefined>>): Context {
  const carrier: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = headers[name];
    if (typeof value === "string") carrier[name] = value;
  }
  return carrierPropagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** `headers` without the trace context (it is replaced by the span that sends them on). */
function withoutTraceHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const rest = { ...headers };
  for (const name of TRACE_HEADERS) delete rest[name];
  return rest;
}

/**
 * What a span records of a failure: its kind, never its message. A message may hold personal data
 * (an SMTP refusal echoes the recipient's address), and spans leave the service for the trace backend.
 */
export function errorAttributes(error: unknown): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    "error.type": error instanceof Error ? error.name : typeof error,
  };
  const { responseCode, code } = (error ?? {}) as { responseCode?: unknown; code?: unknown };
  if (typeof responseCode === "number") attributes["smtp.response.code"] = responseCode;
  if (typeof code === "string") attributes["error.code"] = code;
  return attributes;
}

/** Marks `span` failed with `error`, recording only `errorAttributes`. */
function recordFailure(span: Span, error: unknown): void {
  const attributes = errorAttributes(error);
  span.addEvent("exception", { "exception.type": attributes["error.type"] });
  span.setAttributes(attributes);
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(attributes["error.type"]) });
}

/** Runs `work` in `span`, recording a failure on it, and ends it. */
async function within<T>(span: Span, parent: Context, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The PRODUCER span of one message: the headers to send it with, and `end` once the send settled. */
export interface PublishSpan {
  /** The message's headers with this span's trace context in place of the stored one. */
  readonly headers: Record<string, string>;
  end(error?: unknown): void;
}

/**
 * Opens the PRODUCER span of one message to `topic` (physical), a child of the trace the headers
 * stored with its outbox row carry.
 */
export function publishSpan(topic: string, headers: Readonly<Record<string, string>>): PublishSpan {
  const parent = contextFrom(headers);
  const span = tracer.startSpan(
    `publish ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { "messaging.system": "kafka", "messaging.destination.name": topic },
    },
    parent,
  );
  const own = traceHeaders(trace.setSpan(parent, span));
  return {
    // Without an SDK nothing is injected: the stored context goes on unchanged rather than lost.
    headers: Object.keys(own).length > 0 ? { ...withoutTraceHeaders(headers), ...own } : { ...headers },
    end(error) {
      if (error !== undefined) recordFailure(span, error);
      span.end();
    },
  };
}

/** One consumed message, as the CONSUMER span describes it. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Runs one handling of `message` in a CONSUMER span: a child of (and linked to) the span that
 * published it, or the root of a new trace when its headers carry no valid trace context.
 */
export function consumeSpan<T>(group: string, message: ConsumedMessage, work: () => Promise<T>): Promise<T> {
  const parent = contextFrom(message.headers);
  const producer = trace.getSpanContext(parent);
  const links: Link[] = producer ? [{ context: producer }] : [];
  const span = tracer.startSpan(
    `process ${message.topic}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        "messaging.system": "kafka",
        "messaging.destination.name": message.topic,
        "messaging.consumer.group.name": group,
        "messaging.destination.partition.id": String(message.partition),
        "messaging.kafka.offset": Number(message.offset),
      },
    },
    parent,
  );
  return within(span, parent, work);
}

/**
 * Runs `work` in a span of `kind` that continues the trace `headers` carry (stored with a row
 * written in an earlier span, such as an email to send), or starts one when they carry none.
 */
export function continueSpan<T>(
  name: string,
  kind: SpanKind,
  headers: Readonly<Record<string, string | null | undefined>>,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = contextFrom(headers);
  return within(tracer.startSpan(name, { kind, attributes }, parent), parent, work);
}

/** Records `name` on the active span (a milestone such as `dead_lettered`); nothing without one. */
export function spanEvent(name: string, attributes?: Record<string, string | number>): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

export { SpanKind };

let flush: () => Promise<void> = async () => undefined;

/** Set by the SDK's start: how to export what is buffered and stop exporting. */
export function onTracesFlush(fn: () => Promise<void>): void {
  flush = fn;
}

/**
 * Exports the spans still buffered; the last step of a drain. Never throws, and never takes longer
 * than `budgetMs`: a trace backend that does not answer must not hold up the exit.
 */
export function flushTraces(budgetMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
  });
  return Promise.race([flush().catch(() => undefined), budget]).finally(() => clearTimeout(timer));
}
