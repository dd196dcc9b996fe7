import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import pino from "pino";
import request from "supertest";
import { type Database, DatabaseBusy, errorHandler, isTransientError, ServiceMetrics } from "../src";
import { userServiceDatabase } from "./support/database";

describe("an instance whose pooled connections are all busy", () => {
  const metrics = new ServiceMetrics("user-service");
  let db: Database;

  beforeAll(() => {
    db = userServiceDatabase({ database: "postgres", env: { PG_POOL_MAX: "1" }, metrics });
  });

  afterAll(async () => {
    await db?.end();
  });

  const count = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;

  it("When every connection stays busy past the wait, then the request is a 503 'overloaded' with Retry-After, consumers would pause, and no database outage is counted", async () => {
    const held = await db.pool.connect();
    try {
      const app = express();
      app.get("/work", async (_req, res, next) => {
        try {
          await db.query("SELECT 1");
          res.end();
        } catch (error) {
          next(error);
        }
      });
      app.use(errorHandler(pino({ level: "silent" })));
      const res = await request(app).get("/work");
      expect(res.status).toBe(503);
      expect(res.headers["retry-after"]).toBe("2");
      expect(res.body).toMatchObject({ code: "overloaded" });

      const error = await db.query("SELECT 1").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseBusy);
      expect(isTransientError(error)).toBe(true);
      expect(await count("db_connection_errors_total")).toBe(0);
      expect(await count("db_pool_wait_timeouts_total")).toBe(2);
    } finally {
      held.release();
    }
    await expect(db.query("SELECT 1")).resolves.toBeDefined();
  }, 15_000);
});
