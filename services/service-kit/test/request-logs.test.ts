import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import pino from "pino";
import request from "supertest";
import { z } from "zod";
import { adminToken, bearer } from "../../system-tests/support/auth";
import { eventually } from "../../system-tests/support/environment";
import {
  authConfigSchema,
  createHttpApp,
  defineRoute,
  loadConfig,
  redactedUrl,
  ServiceMetrics,
  TokenVerifier,
} from "../src";
import { localAuthEnv } from "../src/dev-tokens";

/** One JSON log line as the services write it. */
interface LogLine {
  level: number;
  msg: string;
  route?: string;
  req?: { id: string; method: string; url: string };
  res?: { status: number };
  responseTime?: number;
  err?: { message: string };
}

/**
 * An app logging into `lines`, with a route that takes an email in its query, one that fails, one
 * that logs from its handler and one (`/lookups/slow`) that first waits for `whenSlow`.
 */
function appLoggingTo(lines: string[], whenSlow: () => Promise<void> = async () => undefined) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return createHttpApp({
    service: "user-service",
    logger: pino({ level: "info" }, stream),
    metrics: new ServiceMetrics("user-service"),
    readiness: [],
    verifier: new TokenVerifier(loadConfig(authConfigSchema, localAuthEnv())),
    routes: [
      defineRoute({
        method: "GET",
        path: "/users",
        operationId: "findUsers",
        summary: "find",
        query: z.object({ email: z.string() }),
        access: { scope: "users:read" },
        responses: { 200: { description: "ok" } },
        handler: async () => ({ status: 200, body: { items: [] } }),
      }),
      defineRoute({
        method: "GET",
        path: "/lookups/:id",
        operationId: "lookUp",
        summary: "get",
        params: z.object({ id: z.string() }),
        access: { scope: "users:read" },
        responses: { 200: { description: "ok" } },
        handler: async ({ params }, { log }) => {
          if (params.id === "broken") throw new Error("the disk is on fire");
          if (params.id === "slow") await whenSlow();
          log.info("user looked up");
          return { status: 200, body: { id: params.id } };
        },
      }),
    ],
  });
}

describe("request logs", () => {
  it("When requests carry an email in the query or a mistyped path, then no log line holds it, and each names its route template", async () => {
    const lines: string[] = [];
    const app = appLoggingTo(lines);
    const auth = bearer(adminToken());
    expect(
      (await request(app).get("/users?email=ada%40example.com&x=secret").set("authorization", auth)).status,
    ).toBe(200);
    expect((await request(app).get("/users/ada@example.com").set("authorization", auth)).status).toBe(404);
    const logged = lines.join("");
    expect(logged).not.toMatch(/ada|example\.com|secret|%40/);
    const entries = lines.map((line) => JSON.parse(line) as { route: string; req: { url: string } });
    expect(entries.map((e) => [e.route, e.req.url])).toEqual([
      ["/users", "/users?email=[redacted]&x=[redacted]"],
      ["unmatched", "/users/[redacted]"],
    ]);
  });

  it("When a URL has repeated or encoded parameters, then only the names stay", () => {
    expect(redactedUrl("/orders?user_id=1&user_id=2")).toBe("/orders?user_id=[redacted]");
    expect(redactedUrl("/users/x%40y.z?")).toBe("/users/[redacted]?");
    expect(redactedUrl("/health")).toBe("/health");
  });
});

describe("request log lines", () => {
  const auth = bearer(adminToken());
  const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as LogLine);

  it("When requests succeed, are refused or fail, then each logs one line at info, warn or error with its id, method, URL, status, time and route", async () => {
    const lines: string[] = [];
    const app = appLoggingTo(lines);
    expect((await request(app).get("/users?email=x").set("authorization", auth)).status).toBe(200);
    expect((await request(app).get("/users").set("authorization", auth)).status).toBe(400);
    expect((await request(app).get("/lookups/broken").set("authorization", auth)).status).toBe(500);
    const completions = parsed(lines).filter((line) => line.responseTime !== undefined);
    expect(
      completions.map(({ level, msg, route, req, res }) => [level, msg, route, req?.method, req?.url, res]),
    ).toEqual([
      [30, "request completed", "/users", "GET", "/users?email=[redacted]", { status: 200 }],
      [40, "request completed", "/users", "GET", "/users", { status: 400 }],
      [50, "request errored", "/lookups/:id", "GET", "/lookups/broken", { status: 500 }],
    ]);
    for (const line of completions) expect(line.responseTime).toBeGreaterThanOrEqual(0);
    expect(completions[2]?.err?.message).toBe("failed with status code 500");
    // The handler's error is logged once, on its own line, with the request it belongs to.
    const unhandled = parsed(lines).filter((line) => line.msg === "unhandled error");
    expect(unhandled.map((line) => [line.level, line.req?.id, line.err?.message])).toEqual([
      [50, completions[2]?.req?.id, "the disk is on fire"],
    ]);
  });

  it("When a caller sends a well-formed x-request-id, then it is echoed and every line of the request carries it; a malformed one is replaced by a UUID", async () => {
    const lines: string[] = [];
    const app = appLoggingTo(lines);
    const given = await request(app)
      .get("/lookups/ada")
      .set("authorization", auth)
      .set("x-request-id", "trace-1.2:3");
    expect(given.headers["x-request-id"]).toBe("trace-1.2:3");
    expect(parsed(lines).map((line) => [line.msg, line.req?.id])).toEqual([
      ["user looked up", "trace-1.2:3"],
      ["request completed", "trace-1.2:3"],
    ]);

    const malformed = await request(app)
      .get("/lookups/ada")
      .set("authorization", auth)
      .set("x-request-id", "no spaces allowed");
    const replaced = malformed.headers["x-request-id"];
    expect(replaced).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(
      parsed(lines)
        .slice(2)
        .map((line) => line.req?.id),
    ).toEqual([replaced, replaced]);
  });

  it("When probes and scrapes are served, then they log no line", async () => {
    const lines: string[] = [];
    const app = appLoggingTo(lines);
    for (const path of ["/health", "/ready", "/metrics"])
      expect((await request(app).get(path)).status).toBe(200);
    expect(lines).toEqual([]);
  });

  it("When the client hangs up before the response, then the request's line says it was aborted", async () => {
    const lines: string[] = [];
    let reached = () => {};
    const handlerReached = new Promise<void>((resolve) => (reached = resolve));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const app = appLoggingTo(lines, () => {
      reached();
      return released;
    });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const client = http.get({
        port,
        host: "127.0.0.1",
        path: "/lookups/slow",
        headers: { authorization: auth },
      });
      client.on("error", () => undefined);
      await handlerReached;
      client.destroy();
      await eventually("the aborted request's line", async () =>
        lines.length > 0 ? parsed(lines) : undefined,
      );
      expect(parsed(lines).map((line) => [line.level, line.msg, line.route, line.req?.url])).toEqual([
        [30, "request aborted", "/lookups/:id", "/lookups/slow"],
      ]);
    } finally {
      release();
      server.close();
    }
  });
});
