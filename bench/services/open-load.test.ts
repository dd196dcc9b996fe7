import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLoad } from "./open-load";

describe("openLoad", () => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(201, { "content-type": "application/json" }).end("{}"));
  });
  let url = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/users`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("counts latency from when a request was due, so a generator that stalls shows its delay", async () => {
    // The generator's own process stalls for 300 ms early in the run: requests due meanwhile leave late.
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until);
    }, 100);
    const { arrivals } = await openLoad<object>({
      url,
      rate: 100,
      seconds: 1,
      headers: { "content-type": "application/json" },
      body: () => "{}",
    });
    expect(arrivals).toHaveLength(100);
    expect(arrivals.every((a) => a.status === 201)).toBe(true);
    expect(Math.max(...arrivals.map((a) => a.latencyMs))).toBeGreaterThanOrEqual(250);
  });
});
