import { randomUUID } from "node:crypto";
import { IdempotencyStore, keyScope } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  type ServiceUnderTest,
  startServiceUnderTest,
} from "../../service-kit/test/support/service-under-test";
import { api } from "../../system-tests/support/auth";
import { quietLogger } from "../../system-tests/support/environment";
import { validateOpenApi } from "../../system-tests/support/openapi";
import { userService } from "../src/service";

describe("user-service: POST /users with an Idempotency-Key, against the real PostgreSQL", () => {
  let sut: ServiceUnderTest;
  beforeAll(async () => {
    // The relay polls only once a minute and does not linger after a wake-up: events published
    // sooner were woken by their write after it committed.
    sut = await startServiceUnderTest(userService, "user", ["user.created"], {
      OUTBOX_POLL_MS: "60000",
      OUTBOX_LINGER_MS: "0",
    });
  }, 60_000);
  afterAll(() => sut?.stop());

  const body = () => ({ email: `k-${randomUUID()}@example.com`, name: "Keyed" });
  const post = (key: string | undefined, sent: object) => {
    const req = api(sut.svc.server).post("/users");
    return (key === undefined ? req : req.set("Idempotency-Key", key)).send(sent);
  };
  const usersWith = async (email: string) =>
    (await sut.svc.context.db.query("SELECT 1 FROM users WHERE email = $1", [email])).rowCount;

  it("When a request is retried with the same key and body, then the first response is replayed and one user exists", async () => {
    const key = randomUUID();
    const sent = body();
    const first = await post(key, sent);
    const retry = await post(key, sent);
    expect(first.status).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(await usersWith(sent.email)).toBe(1);
  });

  it("When a keyed write commits, then it wakes the relay and its event is published at once", async () => {
    const res = await post(randomUUID(), body());
    expect(res.status).toBe(201);
    await sut.events.waitFor(sut.topic("user.created"), 1, (m) => m.key === res.body.id, 5_000);
  });

  it("When the same key comes with a different body, then 422 names the header and nothing is written", async () => {
    const key = randomUUID();
    expect((await post(key, body())).status).toBe(201);
    const other = body();
    const res = await post(key, other);
    expect(res.status).toBe(422);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ field: "idempotency-key", message: "reused with a different body" }]);
    expect(await usersWith(other.email)).toBe(0);
  });

  it("When requests with the same key arrive at once, then one writes and the others wait and replay it", async () => {
    const key = randomUUID();
    const sent = body();
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(key, sent)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers["idempotent-replayed"] === "true")).toHaveLength(7);
    expect(await usersWith(sent.email)).toBe(1);
  });

  it("When the request holding a key takes longer than 5 s, then the one waiting for it gets 409", async () => {
    const key = randomUUID();
    await sut.svc.context.db.transaction(async (tx) => {
      await tx.query("INSERT INTO idempotency_keys (route, key, request_hash) VALUES ($1, $2, 'held')", [
        keyScope("test-admin", "POST", "/users"),
        key,
      ]);
      const res = await post(key, body());
      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([{ field: "idempotency-key", message: "in progress" }]);
    });
  }, 15_000);

  it("When a keyed write fails, then its key is not kept and a retry runs it again", async () => {
    const taken = body();
    expect((await post(undefined, taken)).status).toBe(201);
    const key = randomUUID();
    expect((await post(key, taken)).status).toBe(409);
    const again = await post(key, taken);
    expect(again.status).toBe(409);
    expect(again.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("When a key is older than 24 hours, then the cleanup deletes it and the same key writes again", async () => {
    const key = randomUUID();
    expect((await post(key, body())).status).toBe(201);
    await sut.svc.context.db.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1",
      [key],
    );
    expect(await new IdempotencyStore(sut.svc.context.db, quietLogger).cleanup()).toBeGreaterThanOrEqual(1);
    const later = await post(key, body());
    expect(later.status).toBe(201);
    expect(later.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("When a key is malformed, then 400 names the header", async () => {
    const res = await post("k".repeat(256), body());
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(["idempotency-key"]);
  });

  it("When /openapi.json is fetched, then POST /users declares the Idempotency-Key header and its 409 and 422", async () => {
    const doc = (await api(sut.svc.server).get("/openapi.json")).body;
    expect(await validateOpenApi(doc)).toEqual({ valid: true, version: "3.1", errors: null });
    const operation = doc.paths["/users"].post;
    expect(operation.parameters).toEqual([
      expect.objectContaining({ name: "idempotency-key", in: "header", required: false }),
    ]);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["409", "422"]));
  });
});
