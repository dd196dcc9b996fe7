import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { serviceEnv } from "../../system-tests/support/environment";
import { createPool, Database, loadConfig, named, ServiceMetrics, serviceEntry } from "../src";
import { serviceConfigSchema } from "../src/service";

describe("named statements", () => {
  let db: Database;

  beforeAll(() => {
    const config = loadConfig(serviceConfigSchema(serviceEntry("user-service")), {
      ...serviceEnv("user", "postgres", ""),
      PG_POOL_MAX: "1",
    });
    db = new Database(createPool(config), new ServiceMetrics("user-service"));
  });

  afterAll(async () => {
    await db?.end();
  });

  const prepared = async (name: string) =>
    (
      await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1", [
        name,
      ])
    ).rows[0]?.n;

  it("When a named statement runs many times on the pool and in transactions, then its connection prepared it once and every run got its own values", async () => {
    const add = named("SELECT $1::int + $2::int AS sum");
    const sums: number[] = [];
    for (let i = 0; i < 5; i++) sums.push((await db.query<{ sum: number }>(add, [i, 10])).rows[0]?.sum ?? -1);
    sums.push(
      await db.transaction(async (tx) => (await tx.query<{ sum: number }>(add, [7, 7])).rows[0]?.sum ?? -1),
    );
    expect(sums).toEqual([10, 11, 12, 13, 14, 14]);
    // One pooled connection: the count is that connection's prepared statements.
    expect(await prepared(add.name)).toBe(1);
  });

  it("When two texts are named, then their names differ and the same text always gets the same name", () => {
    const one = named("SELECT 1");
    expect(named("SELECT 1").name).toBe(one.name);
    expect(named("SELECT 2").name).not.toBe(one.name);
  });
});
