import { randomUUID } from "node:crypto";
import { decodeEvent, newEvent, type RunningService, startService } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { api } from "../../system-tests/support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  serviceEnv,
} from "../../system-tests/support/environment";
import { publishRaw, TopicRecorder } from "../../system-tests/support/kafka";
import { validateOpenApi } from "../../system-tests/support/openapi";
import { orderService } from "../src/service";

describe("order-service API against the real PostgreSQL and Kafka", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let svc: RunningService;
  let events: TopicRecorder;
  const userId = randomUUID();
  const email = `buyer-${userId}@example.com`;

  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    svc = await startService(orderService, { env: serviceEnv("order", db.name, ns.namespace) });
    events = new TopicRecorder([`${ns.namespace}order.processed`]);
    await events.start();
    const created = new Date().toISOString();
    const event = newEvent("user.created", { user_id: userId, email, name: "Buyer", created_at: created });
    await publishRaw(`${ns.namespace}user.created`, [{ key: userId, value: JSON.stringify(event) }]);
    await eventually("the user projection", async () => {
      const { rowCount } = await svc.context.db.query("SELECT 1 FROM known_users WHERE id = $1", [userId]);
      return rowCount === 1 ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await events?.stop();
    await svc?.stop();
    await Promise.all([db?.drop(), ns?.drop()]);
  });

  it("When a known user orders, then 201 returns the processed order with its total, and order.processed is published keyed by the order id", async () => {
    const items = [
      { sku: "BOOK-1", quantity: 3, unit_price: 0.1 },
      { sku: "PEN-2", quantity: 2, unit_price: 19.99 },
    ];
    const res = await api(svc.server).post("/orders").send({ user_id: userId, items });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      user_id: userId,
      status: "processed",
      total: 40.28,
      items,
      created_at: expect.any(String),
    });
    expect((await api(svc.server).get(`/orders/${res.body.id}`)).body).toEqual(res.body);
    const list = await api(svc.server).get("/orders").query({ user_id: userId });
    expect(list.body.items.map((o: { id: string }) => o.id)).toContain(res.body.id);

    const [message] = await events.waitFor(`${ns.namespace}order.processed`, 1, (m) => m.key === res.body.id);
    expect(decodeEvent("order.processed", message?.value ?? null)).toMatchObject({
      event_type: "order.processed",
      version: 1,
      order_id: res.body.id,
      user_id: userId,
      email,
      status: "processed",
      total: 40.28,
      items,
    });
  });

  it("When the user is unknown, then 422 names user_id and nothing is written", async () => {
    const res = await api(svc.server)
      .post("/orders")
      .send({ user_id: randomUUID(), items: [{ sku: "X", quantity: 1, unit_price: 1 }] });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      code: "unprocessable",
      errors: [{ field: "user_id", message: "unknown user" }],
    });
  });

  const item = { sku: "X", quantity: 1, unit_price: 1 };
  it.each([
    ["no items", { items: [] }, ["items"]],
    ["a zero quantity", { items: [{ ...item, quantity: 0 }] }, ["items.0.quantity"]],
    ["a fractional quantity", { items: [{ ...item, quantity: 1.5 }] }, ["items.0.quantity"]],
    ["a price with three decimals", { items: [{ ...item, unit_price: 1.005 }] }, ["items.0.unit_price"]],
    ["a string price", { items: [{ ...item, unit_price: "1.00" }] }, ["items.0.unit_price"]],
    ["a malformed user id", { user_id: "42" }, ["user_id"]],
    ["an unknown item field", { items: [{ ...item, discount: 5 }] }, ["items.0.discount"]],
    ["a NUL character in a sku", { items: [{ ...item, sku: "A\u0000" }] }, ["items.0.sku"]],
  ])("When the order has %s, then 400 names the field", async (_case, change, fields) => {
    const res = await api(svc.server)
      .post("/orders")
      .send({ user_id: userId, items: [item], ...change });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(fields);
  });

  it("When an order id or user id is malformed, then 400; when unknown, then 404 or an empty list", async () => {
    expect((await api(svc.server).get("/orders/xyz")).status).toBe(400);
    expect((await api(svc.server).get("/orders").query({ user_id: "xyz" })).status).toBe(400);
    expect((await api(svc.server).get(`/orders/${randomUUID()}`)).status).toBe(404);
    expect((await api(svc.server).get("/orders").query({ user_id: randomUUID() })).body).toEqual({
      items: [],
    });
  });

  it("When /openapi.json is fetched, then it is a valid OpenAPI 3.1 document with the order routes", async () => {
    const doc = (await api(svc.server).get("/openapi.json")).body;
    expect(await validateOpenApi(doc)).toEqual({ valid: true, version: "3.1", errors: null });
    expect(Object.keys(doc.paths["/orders"])).toEqual(["post", "get"]);
    expect(Object.keys(doc.paths["/orders"].post.responses)).toEqual(
      expect.arrayContaining(["201", "400", "413", "415", "422"]),
    );
  });
});
