import { describe, expect, it } from "@jest/globals";
import { Client, DatabaseError } from "pg";
import pino from "pino";
import { PGHOST, PGPORT } from "../../system-tests/support/environment";
import { isConnectionError, isTransientError, Messaging } from "../src";

async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the work to fail");
}

/** The error PostgreSQL answers `sql` with, from a fresh superuser session. */
async function postgresError(sql: string): Promise<unknown> {
  const client = new Client({
    host: PGHOST,
    port: PGPORT,
    user: process.env.PGSUPERUSER ?? "postgres",
    password: process.env.PGSUPERPASSWORD ?? "postgres",
    database: "postgres",
  });
  await client.connect();
  try {
    return await errorOf(() => client.query(sql));
  } finally {
    await client.end();
  }
}

describe("isTransientError on real errors", () => {
  it("When PostgreSQL rejects the statement itself (bad data, unknown table, constraint), then the error is permanent", async () => {
    for (const sql of [
      "SELECT E'nul\\x00byte'::text",
      "SELECT * FROM no_such_table",
      "SELECT 1/0",
      "CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)",
    ]) {
      expect([sql, isTransientError(await postgresError(sql))]).toEqual([sql, false]);
    }
  });

  it("When the transaction is read-only (a server in recovery or a demoted primary), then the error is transient", async () => {
    const error = await postgresError("START TRANSACTION READ ONLY; CREATE TABLE read_only_probe (id int)");
    expect(error).toMatchObject({ code: "25006" });
    expect(isTransientError(error)).toBe(true);
  });

  it("When PostgreSQL cannot be reached, then the error is transient", async () => {
    const client = new Client({ host: "127.0.0.1", port: 1, connectionTimeoutMillis: 1_000 });
    const error = await errorOf(() => client.connect());
    expect(error).toMatchObject({ code: "ECONNREFUSED" });
    expect(isTransientError(error)).toBe(true);
  });

  it("When PostgreSQL rejects the service's login (a rotated password not picked up), then the error is a transient connection error", async () => {
    const client = new Client({
      host: PGHOST,
      port: PGPORT,
      user: process.env.PGSUPERUSER ?? "postgres",
      password: "not-the-password",
      database: "postgres",
    });
    const error = await errorOf(() => client.connect());
    expect(error).toMatchObject({ code: "28P01" });
    expect(isConnectionError(error)).toBe(true);
    expect(isTransientError(error)).toBe(true);
  });

  it("When no Kafka broker can be reached, then the error is transient, also when wrapped by the code that gave up", async () => {
    const producer = new Messaging({
      brokers: ["127.0.0.1:1"],
      clientId: "transient-test",
      logger: pino({ level: "silent" }),
      connectionTimeoutMs: 200,
    }).producer();
    const error = await errorOf(() => producer.connect());
    expect(isTransientError(error)).toBe(true);
    expect(isTransientError(new Error("publishing failed", { cause: error }))).toBe(true);
  });

  it("When the server is out of disk or memory, then the error is transient; a statement over a configured limit stays permanent", () => {
    const answer = (code: string, message: string) =>
      Object.assign(new DatabaseError(message, 0, "error"), { code, severity: "ERROR" });
    expect(isTransientError(answer("53100", "could not extend file: No space left on device"))).toBe(true);
    expect(isTransientError(answer("53200", "out of shared memory"))).toBe(true);
    expect(isTransientError(answer("53400", "temporary file size exceeds temp_file_limit"))).toBe(false);
  });

  it("When the value is not an error at all, then it is permanent", () => {
    for (const value of [undefined, null, "40001", 42, { code: 40001 }])
      expect(isTransientError(value)).toBe(false);
  });
});
