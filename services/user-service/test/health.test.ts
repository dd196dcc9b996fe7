import { createLogger } from "@blueprint/service-kit";
import { afterAll, describe, expect, it } from "@jest/globals";
import { Pool } from "pg";
import request from "supertest";
import { buildApp } from "../src/app";

const logger = createLogger("user-service", "silent");

function poolOn(port: number): Pool {
  return new Pool({
    host: process.env.PGHOST ?? "127.0.0.1",
    port,
    database: "blueprint",
    user: "user_service",
    password: process.env.USER_SERVICE_PGPASSWORD ?? "user_service_local",
    connectionTimeoutMillis: 1_000,
  });
}

describe("user-service health endpoints against the real PostgreSQL", () => {
  const pool = poolOn(Number(process.env.PGPORT ?? 5432));
  afterAll(() => pool.end());

  it("When the process runs, then /health answers 200 without touching dependencies", async () => {
    const res = await request(buildApp({ pool, logger })).get("/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", service: "user-service" });
  });

  it("When PostgreSQL answers, then /ready is 200 and names the check", async () => {
    const res = await request(buildApp({ pool, logger })).get("/ready");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready", checks: { postgres: "ok" } });
  });

  it("When PostgreSQL is unreachable, then /ready is 503 while /health stays 200", async () => {
    const deadPool = poolOn(1);
    try {
      const app = buildApp({ pool: deadPool, logger });
      const ready = await request(app).get("/ready");
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe("not ready");
      expect(ready.body.checks.postgres).toMatch(/ECONNREFUSED|connect/);
      expect((await request(app).get("/health")).status).toBe(200);
    } finally {
      await deadPool.end();
    }
  });

  it("When connected as the service role, then it can use only its own schema", async () => {
    const own = await pool.query("SELECT current_schema() AS schema");
    expect(own.rows[0].schema).toBe("users");
    await expect(pool.query("CREATE TABLE orders.intruder (id int)")).rejects.toThrow(/permission denied/);
  });
});
