import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  type ServiceUnderTest,
  startServiceUnderTest,
} from "../../service-kit/test/support/service-under-test";
import { api } from "../../system-tests/support/auth";
import { userService } from "../src/service";

describe("user-service: a write that outlasts the query timeout, against the real PostgreSQL", () => {
  let sut: ServiceUnderTest;
  beforeAll(async () => {
    sut = await startServiceUnderTest(userService, "user", ["user.created"], { PG_QUERY_TIMEOUT_MS: "1500" });
  }, 60_000);
  afterAll(() => sut?.stop());

  const count = async (sql: string, value: string) =>
    Number((await sut.svc.context.db.query<{ n: string }>(sql, [value])).rows[0]?.n);

  it("When the users table stays locked past the timeout, then the client gets 503 and nothing is written, not even after the lock goes", async () => {
    const email = `locked-${randomUUID()}@example.com`;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // A migration or a long DDL holding the table: the single-statement write waits behind it.
    const lock = sut.svc.context.db.transaction(async (tx) => {
      await tx.query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
      locked();
      await held;
    });
    await isLocked;

    const res = await api(sut.svc.server).post("/users").send({ email, name: "Locked" });
    release();
    await lock;

    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBeDefined();
    // Given time to commit had the server kept running the statement after the client gave up.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await count("SELECT count(*) AS n FROM users WHERE email = $1", email)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM outbox WHERE position($1 in payload) > 0", email)).toBe(0);
  }, 20_000);
});
