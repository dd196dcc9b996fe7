import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import express from "express";
import { z } from "zod";
import {
  AuditLog,
  authConfigSchema,
  checkRoutesMatchCatalog,
  type Database,
  defineRoute,
  loadConfig,
  type RouteSpec,
  serviceEntry,
  startService,
} from "../src";
import { TokenVerifier } from "../src/auth";
import { localAuthEnv } from "../src/dev-tokens";
import { mountRoutes } from "../src/routes";
import { serviceConfigSchema } from "../src/service";

const entry = serviceEntry("notification-service");

const route = (method: RouteSpec["method"], routePath: string): RouteSpec =>
  defineRoute({
    method,
    path: routePath,
    operationId: `${method}${routePath}`,
    summary: "test route",
    access: { scope: "notifications:read" },
    responses: { 200: { description: "ok", schema: z.object({}) } },
    handler: async () => ({ status: 200, body: {} }),
  });

describe("routes and the catalog", () => {
  it("When a service serves exactly its catalog routes, then the check passes", () => {
    expect(() => checkRoutesMatchCatalog(entry, entry.routes)).not.toThrow();
  });

  it("When a service serves a route its catalog entry lacks and misses one it lists, then the error names both and the catalog", () => {
    expect(() => checkRoutesMatchCatalog(entry, [{ method: "DELETE", path: "/notifications/{id}" }])).toThrow(
      [
        'notification-service: routes differ from the catalog (services/service-kit/src/catalog.ts, services["notification-service"].routes):',
        "- serves DELETE /notifications/{id}, which its catalog entry lacks",
        "- its catalog entry lists GET /notifications, which it does not serve",
      ].join("\n"),
    );
  });

  it("When the same path is served with another method, then it counts as a different route", () => {
    expect(() => checkRoutesMatchCatalog(entry, [{ method: "POST", path: "/notifications" }])).toThrow(
      /serves POST \/notifications, which its catalog entry lacks/,
    );
  });

  it("When a service defines one of its catalog routes twice, then the check names it: Express would serve the first and OpenAPI document the second", () => {
    expect(() => checkRoutesMatchCatalog(entry, [...entry.routes, ...entry.routes])).toThrow(
      /serves GET \/notifications more than once/,
    );
  });

  it("When a service whose routes differ from the catalog starts, then start-up fails with that message before listening", async () => {
    const started = startService(
      {
        entry,
        description: "test",
        configSchema: serviceConfigSchema(entry),
        migrationsDir: path.join(__dirname, "unused"),
        create: () => ({
          routes: [route("GET", "/notifications"), route("GET", "/notifications/{id}")],
          components: [],
        }),
      },
      {
        env: {
          PGPASSWORD: "unused",
          MIGRATE_ON_START: "false",
          LOG_LEVEL: "silent",
          PORT: "0",
          ...localAuthEnv(),
        },
      },
    );
    await expect(started).rejects.toThrow(
      /serves GET \/notifications\/\{id\}, which its catalog entry lacks/,
    );
  });

  it("When a service whose routes differ from the catalog starts with MIGRATE_ON_START, then it fails on the routes without migrating", async () => {
    // Nothing listens on port 1: migrating first would fail on the connection instead.
    const started = startService(
      {
        entry,
        description: "test",
        configSchema: serviceConfigSchema(entry),
        migrationsDir: path.join(__dirname, "unused"),
        create: () => ({ routes: [route("GET", "/notifications/{id}")], components: [] }),
      },
      {
        env: {
          PGHOST: "127.0.0.1",
          PGPORT: "1",
          PGPASSWORD: "unused",
          MIGRATE_ON_START: "true",
          LOG_LEVEL: "silent",
          PORT: "0",
          ...localAuthEnv(),
        },
      },
    );
    await expect(started).rejects.toThrow(/routes differ from the catalog/);
  });

  it("When a write would find its owner in its response, then mounting it fails: the write would run before the owner check", () => {
    const write = defineRoute({
      method: "POST",
      path: "/notifications",
      operationId: "postNotification",
      summary: "test write",
      access: { scope: "notifications:read", owner: { response: "user_id" } },
      audit: { resource: "notification", idField: "id" },
      responses: { 201: { description: "created", schema: z.object({}) } },
      handler: async () => ({ status: 201, body: {} }),
    });
    const verifier = new TokenVerifier(loadConfig(authConfigSchema, localAuthEnv()));
    expect(() =>
      mountRoutes(express.Router(), [write], {
        bodyLimit: "1kb",
        verifier,
        realm: "test",
        audit: new AuditLog({} as Database),
      }),
    ).toThrow(
      "POST /notifications writes: its owner must be found in the request (params, query or body), not the response",
    );
  });
});
