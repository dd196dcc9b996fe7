import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, quietLogger } from "../../system-tests/support/environment";
import { auditedStatement, auditInsert, type Database, IdempotencyStore, type WriteAudit } from "../src";
import { userServiceDatabase } from "./support/database";

describe("A write declared single-statement runs without a transaction of its own, and only as one complete statement", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let store: IdempotencyStore;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = userServiceDatabase({ database: testDb.name });
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

describe("The guard of a single-statement route checks the statement itself", () => {
  const entry = {
    actor: "u-1",
    action: "createUser",
    resourceType: "user",
    resourceId: "id-1",
    outcome: "succeeded" as const,
    status: 201,
    requestId: "r-1",
  };
  const part = auditInsert(entry, 3);
  const audit = (given: boolean): WriteAudit => ({
    succeeded: async () => undefined,
    inStatement: () => part,
    givenInStatement: given ? { part, firstParam: 3 } : undefined,
  });
  const guard = (given: boolean) => auditedStatement("createUser", audit(given));
  const statement = `WITH u AS (INSERT INTO users (email, name) VALUES ($1, $2)), a AS (${part.sql}) SELECT 1`;

  it("When the statement carries the audit row it was given, with its values in place, then it may be sent", () => {
    expect(() => guard(true).ready(statement, ["e", "n", ...part.values])).not.toThrow();
  });

  it("When the handler asked for the audit row but left it out of its SQL or its values, then it is refused", () => {
    const without = "INSERT INTO users (email, name) VALUES ($1, $2)";
    expect(() => guard(true).ready(without, ["e", "n", ...part.values])).toThrow("has no audit row");
    expect(() => guard(true).ready(statement, ["e", "n"])).toThrow("has no audit row");
    expect(() => guard(false).ready(statement, ["e", "n", ...part.values])).toThrow("has no audit row");
  });
});
