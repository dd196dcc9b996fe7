import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";

const CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_TRACEPARENT = `00-${CALLER_TRACE_ID}-00f067aa0ba902b7-01`;

/** A process that starts tracing as a service does and serves one request carrying a caller's `traceparent`. */
const SERVICE = `
const { startTracing } = require(${JSON.stringify(path.resolve(__dirname, "../src/tracing.ts"))});
const { flushTraces } = require(${JSON.stringify(path.resolve(__dirname, "../src/trace-context.ts"))});
(async () => {
  await startTracing("user-service");
  const http = require("node:http");
  const server = http.createServer((_req, res) => res.end("ok"));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  await fetch("http://127.0.0.1:" + server.address().port + "/users", {
    headers: { traceparent: ${JSON.stringify(CALLER_TRACEPARENT)}, tracestate: "x=alice@example.com" },
  });
  server.close();
  await flushTraces(2000);
})();
`;

describe("a request's own trace context", () => {
  const spans: Array<{ traceId: string; tags?: Record<string, string> }> = [];
  const zipkin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      spans.push(...JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(202).end();
    });
  });

  beforeAll(() => new Promise<void>((resolve) => zipkin.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => zipkin.close(resolve)));
  beforeEach(() => {
    spans.length = 0;
  });

  const serve = async (env: NodeJS.ProcessEnv) => {
    const { port } = zipkin.address() as AddressInfo;
    const child = spawn(process.execPath, ["--conditions=development", "--import", "tsx", "-e", SERVICE], {
      env: {
        ...process.env,
        OTEL_TRACES_EXPORTER: "zipkin",
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${port}/api/v2/spans`,
        OTEL_BSP_SCHEDULE_DELAY: "100",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        ...env,
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
  };

  it("When a caller sends a sampled traceparent to a service that samples nothing, then no span is exported: callers cannot force sampling", async () => {
    await serve({ OTEL_TRACES_SAMPLER_ARG: "0" });
    expect(spans).toEqual([]);
  }, 20_000);

  it("When a caller sends a traceparent, then the request starts its own trace, not the caller's", async () => {
    await serve({ OTEL_TRACES_SAMPLER_ARG: "1" });
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.map((s) => s.traceId)).not.toContain(CALLER_TRACE_ID);
  }, 20_000);

  it("When inbound trace context is trusted, then the request continues the caller's trace", async () => {
    await serve({ OTEL_TRACES_SAMPLER_ARG: "0", OTEL_TRACE_INBOUND_CONTEXT: "continue" });
    expect(spans.map((s) => s.traceId)).toContain(CALLER_TRACE_ID);
  }, 20_000);
});
