import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, quietLogger, serviceEnv } from "../../system-tests/support/environment";
import { createPool, Database, IdempotencyStore, loadConfig, ServiceMetrics, serviceEntry } from "../src";
import { serviceConfigSchema } from "../src/service";

describe("A write declared single-statement runs without a transaction of its own, and only as one complete statement", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let store: IdempotencyStore;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const config = loadConfig(
      serviceConfigSchema(serviceEntry("user-service")),
      serviceEnv("user", testDb.name, ""),
    );
    db = new Database(createPool(config), new ServiceMetrics("user-service"));
    store = new IdempotencyStore(db, quietLogger);
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await testDb?.drop();
  });

  const sessionsTransaction = "SELECT now() = statement_timestamp() AS own";
  const auditRows = async () =>
    Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log")).rows[0]?.n);

  it("When its statement runs, then it is a transaction of its own (no BEGIN before it)", async () => {
    let own: boolean | undefined;
    await store.run(
      "scope",
      undefined,
      {},
      async (q) => {
        own = (await q.query<{ own: boolean }>(sessionsTransaction)).rows[0]?.own;
        return { status: 200, body: {} };
      },
      { name: "probe", ready: () => undefined },
    );
    expect(own).toBe(true);
  });

  it("When the statement would leave out its audit row, then it is never sent and nothing is written", async () => {
    const before = await auditRows();
    await expect(
      store.run(
        "scope",
        undefined,
        {},
        async (q) => {
          await q.query(
            "INSERT INTO audit_log (actor, action, resource_type, outcome, status, request_id) VALUES ('a', 'b', 'c', 'succeeded', 201, 'r')",
          );
          return { status: 201, body: {} };
        },
        {
          name: "createThing",
          ready: () => {
            throw new Error("createThing is a single-statement write but its statement has no audit row");
          },
        },
      ),
    ).rejects.toThrow("has no audit row");
    expect(await auditRows()).toBe(before);
  });

  it("When a handler runs a second statement, then the second is refused", async () => {
    await expect(
      store.run(
        "scope",
        undefined,
        {},
        async (q) => {
          await q.query("SELECT 1");
          await q.query("SELECT 2");
          return { status: 200, body: {} };
        },
        { name: "twice", ready: () => undefined },
      ),
    ).rejects.toThrow("twice is a single-statement write but ran a second statement");
  });

  it("When an Idempotency-Key is sent, then the same write runs inside the key's transaction", async () => {
    let own: boolean | undefined;
    await store.run(
      "scope",
      "key-1",
      {},
      async (q) => {
        own = (await q.query<{ own: boolean }>(sessionsTransaction)).rows[0]?.own;
        return { status: 200, body: {} };
      },
      { name: "probe", ready: () => undefined },
    );
    expect(own).toBe(false);
  });
});
