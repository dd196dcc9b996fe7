import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase } from "../../system-tests/support/environment";
import { type Database, isTransientError, named, StaleStatement } from "../src";
import { userServiceDatabase } from "./support/database";

describe("named statements", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    // One pooled connection: what one test sees of "its connection" is the pool's only one.
    db = userServiceDatabase({ database: testDb.name, env: { PG_POOL_MAX: "1" } });
  });

  afterAll(async () => {
    await db?.end();
    await testDb?.drop();
  });

  const backend = async () =>
    (await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;

  it("When a named statement runs on the pool and in a transaction, then the connection prepared it once and ran it every time with that call's values", async () => {
    const add = named("add", "SELECT $1::int + $2::int AS sum");
    const sums: number[] = [];
    for (let i = 0; i < 5; i++) sums.push((await db.query<{ sum: number }>(add, [i, 10])).rows[0]?.sum ?? -1);
    sums.push(
      await db.transaction(async (tx) => (await tx.query<{ sum: number }>(add, [7, 7])).rows[0]?.sum ?? -1),
    );
    expect(sums).toEqual([10, 11, 12, 13, 14, 14]);
    const { rows } = await db.query<{ runs: number }>(
      "SELECT (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE name = $1",
      [add.name],
    );
    expect(rows).toEqual([{ runs: 6 }]);
  });

  it("When a statement fails with an error PostgreSQL answered (a taken key), then its connection stays in the pool with what it prepared", async () => {
    await db.query("CREATE TABLE taken (email text PRIMARY KEY)");
    const insert = named("insert_taken", "INSERT INTO taken (email) VALUES ($1)");
    await db.query(insert, ["a@example.com"]);
    const before = await backend();
    const error = await db.query(insert, ["a@example.com"]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "23505" });
    expect(await backend()).toBe(before);
  });

  it("When a migration changes the type of a column a named statement returns, then the next run succeeds however many connections held it, and a transaction's failure is one to retry", async () => {
    const three = userServiceDatabase({ database: testDb.name, env: { PG_POOL_MAX: "3" } });
    try {
      await three.query("CREATE TABLE widened (id int PRIMARY KEY, n int)");
      await three.query("INSERT INTO widened VALUES (1, 1)");
      const read = named("read_widened", "SELECT n FROM widened WHERE id = $1");
      // Three transactions at once: each of the three connections prepares the statement.
      const held = await Promise.all(
        [1, 2, 3].map(() =>
          three.transaction(async (tx) => {
            const { rows } = await tx.query(read, [1]);
            await tx.query("SELECT pg_sleep(0.2)");
            return rows;
          }),
        ),
      );
      expect(held).toEqual([[{ n: 1 }], [{ n: 1 }], [{ n: 1 }]]);
      await three.query("ALTER TABLE widened ALTER COLUMN n TYPE text");

      expect((await three.query(read, [1])).rows).toEqual([{ n: "1" }]);

      await three.query("ALTER TABLE widened ALTER COLUMN n TYPE bigint USING n::bigint");
      const failed = await three.transaction((tx) => tx.query(read, [1])).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(StaleStatement);
      expect(isTransientError(failed)).toBe(true);
    } finally {
      await three.end();
    }
  });

  it("When two texts are named, then their names differ, the same text always gets the same name, and the label leads it", () => {
    const one = named("one", "SELECT 1");
    expect(named("one", "SELECT 1")).toBe(one);
    expect(named("one", "SELECT 2").name).not.toBe(one.name);
    expect(one.name).toMatch(/^one_[\w-]{16}$/);
    expect(() => named("Not A Label", "SELECT 1")).toThrow(/statement label/);
  });
});
