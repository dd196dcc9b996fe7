import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { ZipkinExporter } from "@opentelemetry/exporter-zipkin";
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { flushTraces, onTracesFlush } from "../src";
import { SingleExport } from "../src/single-export";

describe("span export to a trace collector that accepts connections and never answers", () => {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const hung = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}/api/v2/spans`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => hung.close(resolve));
  });

  /** One finished span to export. */
  function finishedSpans(): ReadableSpan[] {
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
    provider.getTracer("test").startSpan("POST /users").end();
    return memory.getFinishedSpans();
  }

  const exportOnce = (exporter: SingleExport, spans: ReadableSpan[]) =>
    new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));

  it("When batches keep coming, then each export fails within its timeout and only one request to the collector is ever open", async () => {
    connections = 0;
    const exporter = new SingleExport(new ZipkinExporter({ url, serviceName: "test" }), 300);
    const spans = finishedSpans();

    for (let batch = 0; batch < 4; batch++) {
      const began = Date.now();
      const result = await exportOnce(exporter, spans);
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(Date.now() - began).toBeLessThan(1_000);
    }

    expect(connections).toBe(1);
  });

  it("When the service stops with spans still buffered, then flushing them gives up at the budget, not at the export timeout", async () => {
    connections = 0;
    const exportTimeoutMs = 5_000;
    const provider = new TracerProvider({
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new SingleExport(new ZipkinExporter({ url, serviceName: "test" }), exportTimeoutMs),
          scheduledDelayMillis: 60_000,
          exportTimeoutMillis: exportTimeoutMs,
        }),
      ],
    });
    provider.getTracer("test").startSpan("POST /users").end();
    onTracesFlush(() => provider.shutdown());

    const began = Date.now();
    await flushTraces(500);
    const tookMs = Date.now() - began;

    expect(connections).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(450);
    expect(tookMs).toBeLessThan(1_500);
  });
});
