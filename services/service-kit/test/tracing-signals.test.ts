import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";

const TRACING = path.resolve(__dirname, "../src/tracing.ts");

/** A process that starts tracing as a service does, serves one traced request, then stops. */
const SERVICE = `
const { startTracing } = require(${JSON.stringify(TRACING)});
const { flushTraces } = require(${JSON.stringify(path.resolve(__dirname, "../src/trace-context.ts"))});
(async () => {
  await startTracing("user-service");
  const http = require("node:http");
  const server = http.createServer((_req, res) => res.end("ok"));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  await fetch("http://127.0.0.1:" + server.address().port + "/users");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  server.close();
  await flushTraces(2000);
})();
`;

describe("what a traced process sends to the OTLP collector", () => {
  const received: string[] = [];
  const collector = http.createServer((req, res) => {
    received.push(req.url ?? "");
    req.resume().on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });

  beforeAll(() => new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise((resolve) => collector.close(resolve)));

  it("When tracing exports OTLP, then the collector receives traces only: no metrics or logs the services already keep elsewhere", async () => {
    const { port } = collector.address() as AddressInfo;
    const child = spawn(process.execPath, ["--conditions=development", "--import", "tsx", "-e", SERVICE], {
      env: {
        ...process.env,
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: "100",
        OTEL_METRIC_EXPORT_INTERVAL: "200",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);

    expect(received).toContain("/v1/traces");
    expect(received.filter((url) => url !== "/v1/traces")).toEqual([]);
  }, 20_000);
});
