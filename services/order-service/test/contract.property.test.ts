import { randomUUID } from "node:crypto";
import { decodeEvent, type RunningService, startService } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import request from "supertest";
import { createTestDatabase, createTestNamespace, serviceEnv } from "../../system-tests/support/environment";
import { TopicRecorder } from "../../system-tests/support/kafka";
import { orderService } from "../src/service";

/** Any UTF-16 code unit, so strings hold NUL, unpaired surrogates and astral characters alike. */
const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
  );

const item = fc.record({
  sku: anyText(70),
  quantity: fc.oneof(fc.integer({ min: -1, max: 10_001 }), fc.double()),
  unit_price: fc.oneof(
    fc.integer({ min: 0, max: 100_000_000 }).map((cents) => cents / 100),
    fc.double({ min: -1, max: 2_000_000 }),
  ),
});

describe("order-service: what the API accepts, its event contract accepts", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let svc: RunningService;
  let events: TopicRecorder;
  const userId = randomUUID();

  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    svc = await startService(orderService, { env: serviceEnv("order", db.name, ns.namespace) });
    events = new TopicRecorder([`${ns.namespace}order.processed`]);
    await events.start();
    await svc.context.db.query(
      "INSERT INTO known_users (id, email, name, created_at) VALUES ($1, $2, 'Buyer', now())",
      [userId, `buyer-${userId}@example.com`],
    );
  }, 60_000);

  afterAll(async () => {
    await events?.stop();
    await svc?.stop();
    await Promise.all([db?.drop(), ns?.drop()]);
  });

  it("When a body the API accepts places an order, then its order.processed event meets the contract; every other body is a 400, never a 500", async () => {
    const placed: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 0, maxLength: 4 }), async (items) => {
        const res = await request(svc.server).post("/orders").send({ user_id: userId, items });
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
    const messages = await events.waitFor(`${ns.namespace}order.processed`, placed.length, () => true);
    for (const message of messages) expect(() => decodeEvent("order.processed", message.value)).not.toThrow();
  }, 60_000);
});
