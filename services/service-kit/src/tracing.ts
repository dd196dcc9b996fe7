/**
 * The OpenTelemetry SDK of a service process. Started by the service's `main.ts` before anything
 * else loads: the http, express and pg instrumentations patch those modules as they are required,
 * so a module loaded earlier is never traced. Only `zod` and `./config` load here; the SDK (half a
 * second of start-up) loads only when tracing is on.
 */
import type { IncomingMessage } from "node:http";
import type { Attributes, TextMapPropagator } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { z } from "zod";
import { ConfigError, loadConfig } from "./config";
import { PROBE_PATHS } from "./probe-paths";
import { redactedUrl } from "./redacted-url";
import { onTracesFlush, setCarrierPropagator } from "./trace-context";

/**
 * Where spans go: `zipkin` (local and compose: the Zipkin server and its UI), `otlp` (AWS: the ADOT
 * collector, which exports to X-Ray; the standard `OTEL_EXPORTER_OTLP_*` variables set its address)
 * or `none`. The sampler is the SDK's: `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`).
 */
export const tracingConfigSchema = z
  .object({
    OTEL_TRACES_EXPORTER: z.enum(["zipkin", "otlp", "none"]).default("none"),
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: z
      .url({ protocol: /^https?$/ })
      .default("http://127.0.0.1:9411/api/v2/spans"),
    /** Read by the SDK itself, checked here: it would only log an unknown value and trace everything. */
    OTEL_TRACES_SAMPLER: z
      .enum([
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
      ])
      .optional(),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
    /** Milliseconds between exports of the batched spans (the SDK's standard variables, checked here). */
    OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().positive().default(5_000),
    /** Spans buffered for export at most; more are dropped, so a slow backend costs bounded memory. */
    OTEL_BSP_MAX_QUEUE_SIZE: z.coerce.number().int().positive().default(2_048),
    /** Spans per export at most; no more than the queue holds. */
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().positive().default(512),
    /** Milliseconds an export may take before it counts as failed (the SDK's default is 30 s). */
    OTEL_BSP_EXPORT_TIMEOUT: z.coerce.number().int().positive().default(5_000),
    /**
     * What a request's own `traceparent` does: `ignore` (default) starts a trace per request, sampled
     * by the service's ratio, so a caller can neither force nor suppress sampling nor send its
     * `tracestate` through the outbox; `continue` joins the caller's trace, for a trusted front or
     * tests. Events always continue the trace their outbox row or Kafka message carries.
     */
    OTEL_TRACE_INBOUND_CONTEXT: z.enum(["ignore", "continue"]).default("ignore"),
    /** The service name on every span; the catalog's name unless overridden, like the config's. */
    SERVICE_NAME: z.string().min(1).optional(),
  })
  .refine((c) => c.OTEL_BSP_MAX_EXPORT_BATCH_SIZE <= c.OTEL_BSP_MAX_QUEUE_SIZE, {
    path: ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
    message: "must not exceed OTEL_BSP_MAX_QUEUE_SIZE",
  });
export type TracingConfig = z.output<typeof tracingConfigSchema>;

/**
 * The attributes of a request's span that would otherwise hold what the client sent: the URL
 * redacted as the request log has it (an email in a query or a mistyped path never reaches the
 * trace backend), and no client address or user agent.
 */
export function requestSpanAttributes(req: IncomingMessage): Attributes {
  const [path, query] = redactedUrl(req.url ?? "").split("?", 2);
  return {
    "url.path": path,
    "url.query": query,
    "http.target": undefined,
    "client.address": undefined,
    "network.peer.address": undefined,
    "network.peer.port": undefined,
    "user_agent.original": undefined,
  };
}

/*
 * The SDK is required, not imported: a dynamic import() would load its ESM build beside the
 * CommonJS one the kit uses, and the instrumentations would not see the kit's modules.
 */
function exporterFor(config: TracingConfig, serviceName: string): SpanExporter {
  if (config.OTEL_TRACES_EXPORTER === "zipkin") {
    const { ZipkinExporter } =
      require("@opentelemetry/exporter-zipkin") as typeof import("@opentelemetry/exporter-zipkin");
    return new ZipkinExporter({ url: config.OTEL_EXPORTER_ZIPKIN_ENDPOINT, serviceName });
  }
  const { OTLPTraceExporter } =
    require("@opentelemetry/exporter-trace-otlp-http") as typeof import("@opentelemetry/exporter-trace-otlp-http");
  return new OTLPTraceExporter();
}

/**
 * Starts tracing for `service` (its catalog name) unless `OTEL_TRACES_EXPORTER` is `none`; throws
 * ConfigError on a bad setting. Spans are batched and exported in the background; `flushTraces()`
 * (the last step of the service's drain) exports what is left.
 */
export async function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(tracingConfigSchema, env);
  if (config.OTEL_TRACES_EXPORTER === "none") return;
  const serviceName = config.SERVICE_NAME ?? service;
  const { NodeSDK } = require("@opentelemetry/sdk-node") as typeof import("@opentelemetry/sdk-node");
  const { W3CTraceContextPropagator } =
    require("@opentelemetry/core") as typeof import("@opentelemetry/core");
  const { diag, DiagConsoleLogger, DiagLogLevel } =
    require("@opentelemetry/api") as typeof import("@opentelemetry/api");
  const { SingleExport } = require("./single-export") as typeof import("./single-export");
  const { BatchSpanProcessor } =
    require("@opentelemetry/sdk-trace") as typeof import("@opentelemetry/sdk-trace");
  const http =
    require("@opentelemetry/instrumentation-http") as typeof import("@opentelemetry/instrumentation-http");
  const express =
    require("@opentelemetry/instrumentation-express") as typeof import("@opentelemetry/instrumentation-express");
  const pg =
    require("@opentelemetry/instrumentation-pg") as typeof import("@opentelemetry/instrumentation-pg");
  const { ExpressLayerType } = express;
  // Failed and dropped exports are otherwise silent.
  diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
  const w3c = new W3CTraceContextPropagator();
  setCarrierPropagator(w3c);
  const exporter = new SingleExport(exporterFor(config, serviceName), config.OTEL_BSP_EXPORT_TIMEOUT);
  const sdk = new NodeSDK({
    serviceName,
    // Host and process attributes would be repeated on every span Zipkin stores: the service name is
    // what the traces are read by.
    autoDetectResources: false,
    // Trace context only: W3C baggage (the SDK's other default) would carry whatever a client put in
    // its `baggage` header into the outbox and every Kafka message. The global propagator is what the
    // http instrumentation reads requests with.
    textMapPropagator: config.OTEL_TRACE_INBOUND_CONTEXT === "continue" ? w3c : injectOnly(w3c),
    // Traces only: without these the SDK would export OTLP logs and, every minute, OTLP metrics of
    // the instrumentations to the collector, beside the logs on stdout and Prometheus' metrics.
    logRecordProcessors: [],
    metricReaders: [],
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
        maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
        exportTimeoutMillis: config.OTEL_BSP_EXPORT_TIMEOUT,
      }),
    ],
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => PROBE_PATHS.has(req.url?.split("?", 1)[0] ?? ""),
        startIncomingSpanHook: requestSpanAttributes,
        // The id a client is given (`x-request-id`) as the tag `http.response.header.x-request-id`:
        // what a support request quotes finds its trace without the logs.
        headersToSpanAttributes: { server: { responseHeaders: ["x-request-id"] } },
        // The only outgoing HTTP is to AWS APIs at start and to the trace backend itself.
        disableOutgoingRequestInstrumentation: true,
      }),
      // Only to name the request's span after its route template: a span per middleware would
      // cost more than the request it describes.
      new express.ExpressInstrumentation({
        ignoreLayersType: [
          ExpressLayerType.MIDDLEWARE,
          ExpressLayerType.ROUTER,
          ExpressLayerType.REQUEST_HANDLER,
        ],
      }),
      // Queries of a request or a handling only: the relay's and workers' polls would each start a trace.
      new pg.PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
  });
  sdk.start();
  onTracesFlush(() => sdk.shutdown());
}

/** `propagator` for sending trace context; reading it back gives the context unchanged. */
function injectOnly(propagator: TextMapPropagator): TextMapPropagator {
  return {
    inject: (ctx, carrier, setter) => propagator.inject(ctx, carrier, setter),
    extract: (ctx) => ctx,
    fields: () => propagator.fields(),
  };
}

/** For `main.ts`: starts tracing, or prints the configuration error and exits 1 like the service would. */
export async function startProcessTracing(service: string): Promise<void> {
  try {
    await startTracing(service);
  } catch (error) {
    console.error(error instanceof ConfigError ? `${service}: ${error.message}` : error);
    process.exit(1);
  }
}
