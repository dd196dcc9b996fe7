import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  type ServiceUnderTest,
  startServiceUnderTest,
} from "../../service-kit/test/support/service-under-test";
import { api, tokenFor } from "../../system-tests/support/auth";
import { orderService } from "../src/service";

describe("order-service: POST /orders with an Idempotency-Key, against the real PostgreSQL and Kafka", () => {
  let sut: ServiceUnderTest;
  beforeAll(async () => {
    sut = await startServiceUnderTest(orderService, "order", ["order.processed"]);
  }, 60_000);
  afterAll(() => sut?.stop());

  const learnUser = (userId: string) =>
    sut.svc.context.db.query(
      "INSERT INTO known_users (id, email, name, created_at) VALUES ($1, $2, 'Buyer', now())",
      [userId, `buyer-${userId}@example.com`],
    );
  const order = (userId: string) => ({
    user_id: userId,
    items: [{ sku: "BOOK-1", quantity: 2, unit_price: 9.5 }],
  });
  const post = (key: string, body: object) =>
    api(sut.svc.server).post("/orders").set("Idempotency-Key", key).send(body);

  it("When POST /orders is retried with the same key, then one order is made and one order.processed is published", async () => {
    const userId = randomUUID();
    await learnUser(userId);
    const key = randomUUID();
    const responses = await Promise.all([post(key, order(userId)), post(key, order(userId))]);
    responses.push(await post(key, order(userId)));
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);

    const orders = await sut.svc.context.db.query("SELECT id FROM orders WHERE user_id = $1", [userId]);
    expect(orders.rowCount).toBe(1);
    const topic = sut.topic("order.processed");
    const ofUser = (m: { value: string | null }) => JSON.parse(m.value ?? "{}").user_id === userId;
    await sut.events.waitFor(topic, 1, ofUser);
    await sleep(500);
    // One event, so notification-service (idempotent by event id) sends one confirmation email.
    expect(sut.events.on(topic).filter(ofUser)).toHaveLength(1);
  });

  it("When the first attempt is 422 for a user not learned of yet, then the retry with the same key places the order", async () => {
    const userId = randomUUID();
    const key = randomUUID();
    expect((await post(key, order(userId))).status).toBe(422);
    await learnUser(userId);
    const retry = await post(key, order(userId));
    expect(retry.status).toBe(201);
    expect(retry.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("When the same key is sent to another route, then it is a different key", async () => {
    const key = randomUUID();
    const userId = randomUUID();
    await sut.svc.context.db.query(
      "INSERT INTO idempotency_keys (route, key, request_hash, status, response) VALUES ('POST /other', $1, 'x', 201, '{}')",
      [key],
    );
    await learnUser(userId);
    const res = await post(key, order(userId));
    expect(res.status).toBe(201);
    expect(res.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("When two users send the same key, then each places and gets back their own order", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    await learnUser(alice);
    await learnUser(bob);
    const key = randomUUID();
    const as = (sub: string) =>
      api(sut.svc.server, tokenFor(sub)).post("/orders").set("Idempotency-Key", key).send(order(sub));

    const first = await as(alice);
    const second = await as(bob);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.user_id).toBe(bob);
    expect(second.headers["idempotent-replayed"]).toBeUndefined();
    const orders = await sut.svc.context.db.query("SELECT user_id FROM orders WHERE user_id = ANY($1)", [
      [alice, bob],
    ]);
    expect(orders.rowCount).toBe(2);
  });

  it("When two callers holding the scope send the same key and body, then neither gets the other's response", async () => {
    const userId = randomUUID();
    await learnUser(userId);
    const key = randomUUID();
    const as = (sub: string) =>
      api(sut.svc.server, tokenFor(sub, ["orders:write"]))
        .post("/orders")
        .set("Idempotency-Key", key)
        .send(order(userId));

    const first = await as("back-office-a");
    const second = await as("back-office-b");
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("When a replica from before per-caller keys stored the same key, then the request is not answered from that row", async () => {
    const userId = randomUUID();
    await learnUser(userId);
    const key = randomUUID();
    await sut.svc.context.db.query(
      `INSERT INTO idempotency_keys (route, key, request_hash, status, response)
       VALUES ('POST /orders', $1, 'x', 201, '{"id":"someone-elses"}')`,
      [key],
    );
    const res = await post(key, order(userId));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe("someone-elses");
  });
});
