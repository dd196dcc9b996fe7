import { randomUUID } from "node:crypto";
import { decodeEvent } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  anyText,
  type ServiceUnderTest,
  startServiceUnderTest,
} from "../../service-kit/test/support/service-under-test";
import { api } from "../../system-tests/support/auth";
import { orderService } from "../src/service";

const item = fc.record({
  sku: anyText(70),
  quantity: fc.oneof(fc.integer({ min: -1, max: 10_001 }), fc.double()),
  unit_price: fc.oneof(
    fc.integer({ min: 0, max: 100_000_000 }).map((cents) => cents / 100),
    fc.double({ min: -1, max: 2_000_000 }),
  ),
});

describe("order-service: what the API accepts, its event contract accepts", () => {
  let sut: ServiceUnderTest;
  const userId = randomUUID();

  beforeAll(async () => {
    sut = await startServiceUnderTest(orderService, "order", ["order.processed"]);
    await sut.svc.context.db.query(
      "INSERT INTO known_users (id, email, name, created_at) VALUES ($1, $2, 'Buyer', now())",
      [userId, `buyer-${userId}@example.com`],
    );
  }, 60_000);

  afterAll(() => sut?.stop());

  it("When a body the API accepts places an order, then its order.processed event meets the contract; every other body is a 400, never a 500", async () => {
    const placed: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 0, maxLength: 4 }), async (items) => {
        const res = await api(sut.svc.server).post("/orders").send({ user_id: userId, items });
        if (res.status === 201) {
          placed.push(res.body.id);
          return;
        }
        expect(res.status).toBe(400);
        expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      }),
      { numRuns: 300, examples: [[[{ sku: "A\u0000", quantity: 1, unit_price: 1 }]]] },
    );
    expect(placed.length).toBeGreaterThan(0);
    const messages = await sut.events.waitFor(sut.topic("order.processed"), placed.length);
    for (const message of messages) expect(() => decodeEvent("order.processed", message.value)).not.toThrow();
  }, 60_000);
});
