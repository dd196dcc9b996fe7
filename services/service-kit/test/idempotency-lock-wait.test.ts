import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client } from "pg";
import { createTestDatabase, PGHOST, PGPORT, quietLogger } from "../../system-tests/support/environment";
import { type Database, IdempotencyStore } from "../src";
import { userServiceDatabase } from "./support/database";

describe("a keyed write that waits for a lock of its own", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = userServiceDatabase({ database: testDb.name });
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await testDb?.drop();
  });

  it("When the write waits longer than the key wait (5 s) for a lock another session holds, then it completes instead of answering 409 'in progress'", async () => {
    const holder = new Client({
      host: PGHOST,
      port: PGPORT,
      user: process.env.PGSUPERUSER ?? "postgres",
      password: process.env.PGSUPERPASSWORD ?? "postgres",
      database: testDb.name,
    });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(4711)");
      const store = new IdempotencyStore(db, quietLogger);
      const written = store.run("POST /things", "key-1", { n: 1 }, async (q) => {
        await q.query("SELECT pg_advisory_xact_lock(4711)");
        return { status: 201, body: { ok: true } };
      });
      await sleep(6_000);
      await holder.query("SELECT pg_advisory_unlock(4711)");
      await expect(written).resolves.toMatchObject({ status: 201, body: { ok: true } });
    } finally {
      await holder.end();
    }
  }, 20_000);
});
