import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import pino from "pino";
import request from "supertest";
import { z } from "zod";
import { adminToken, bearer } from "../../system-tests/support/auth";
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

/** An app with one route that takes an email in its query, logging into `lines`. */
function appLoggingTo(lines: string[]) {
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
