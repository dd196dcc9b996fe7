import { randomUUID } from "node:crypto";
import { type RunningService, startService } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { orderService } from "../../order-service/src/service";
import { userService } from "../../user-service/src/service";
import { api } from "../support/auth";
import { createTestDatabase, eventually, serviceEnv } from "../support/environment";
import { privateBroker, TopicRecorder } from "../support/kafka";

const { broker, remove: removeBroker } = privateBroker("kafka-outage");
const brokers = broker.address;

const unsent = async (svc: RunningService) => {
  const { rows } = await svc.context.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL",
  );
  return rows[0]?.n;
};

describe("services started while Kafka is unreachable", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let users: RunningService;
  let orders: RunningService;

  beforeAll(async () => {
    // The private broker has never run yet: nothing listens on its port.
    db = await createTestDatabase();
    const env = (service: "user" | "order") => serviceEnv(service, db.name, "", { KAFKA_BROKERS: brokers });
    [users, orders] = await Promise.all([
      startService(userService, { env: env("user") }),
      startService(orderService, { env: env("order") }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([users?.stop(), orders?.stop()]);
    await broker.down();
    await db?.drop();
  }, 60_000);

  it("When a service starts without Kafka, then it is ready and accepts writes, and once a broker appears its relay and consumers connect by themselves", async () => {
    expect((await api(users.server).get("/ready")).status).toBe(200);
    expect((await api(orders.server).get("/ready")).status).toBe(200);
    const created = await api(users.server)
      .post("/users")
      .send({ email: `offline-${randomUUID()}@example.com`, name: "Offline" });
    expect(created.status).toBe(201);
    expect(await unsent(users)).toBe(1);
    expect(await users.context.metrics.render()).toMatch(
      /kafka_connected\{client="outbox-relay",service="user-service"\} 0/,
    );

    await broker.up();
    await eventually(
      "user.created published",
      async () => ((await unsent(users)) === 0 ? true : undefined),
      60_000,
      250,
    );
    // order-service's consumer joined its group and learnt of the user: the order is accepted.
    await eventually(
      "order-service learnt of the user",
      async () => {
        const res = await api(orders.server)
          .post("/orders")
          .send({ user_id: created.body.id, items: [{ sku: "sku-1", quantity: 1, unit_price: 5 }] });
        return res.status === 201 ? true : undefined;
      },
      60_000,
      500,
    );
    expect(await users.context.metrics.render()).toMatch(
      /kafka_connected\{client="outbox-relay",service="user-service"\} 1/,
    );
    expect(await orders.context.metrics.render()).toMatch(
      /kafka_connected\{client="consumer",service="order-service"\} 1/,
    );
  }, 150_000);
});

describe("user-service while Kafka is down", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;

  beforeAll(async () => {
    [db] = await Promise.all([createTestDatabase(), broker.up()]);
    svc = await startService(userService, {
      env: serviceEnv("user", db.name, "", { KAFKA_BROKERS: brokers }),
    });
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await broker.down();
    await db?.drop();
    removeBroker();
  }, 60_000);

  const createUsers = async (count: number, label: string) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await api(svc.server)
        .post("/users")
        .send({ email: `${label}-${i}-${randomUUID()}@example.com`, name: label });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    return ids;
  };

  it("When Kafka is stopped, then users are still created, and once Kafka is back every event arrives, none lost", async () => {
    const before = await createUsers(3, "before");
    await eventually("events before the outage published", async () => {
      const { rows } = await svc.context.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL",
      );
      return rows[0]?.n === 0 ? true : undefined;
    });

    await broker.down();
    const during = await createUsers(10, "during");
    // Kafka is not this instance's traffic: it stays ready, and the relay reports the broker lost.
    const ready = await api(svc.server).get("/ready");
    expect(ready.status).toBe(200);
    await eventually("the relay reports the broker lost", async () =>
      /kafka_connected\{client="outbox-relay",service="user-service"\} 0/.test(
        await svc.context.metrics.render(),
      )
        ? true
        : undefined,
    );
    expect(await svc.context.metrics.render()).toMatch(/outbox_backlog\{service="user-service"\} 10/);

    await broker.up();
    await eventually(
      "the backlog published after Kafka returned",
      async () => {
        const { rows } = await svc.context.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL",
        );
        return rows[0]?.n === 0 ? true : undefined;
      },
      45_000,
      250,
    );
    const recorder = new TopicRecorder(["user.created"], brokers);
    await recorder.start();
    try {
      const all = [...before, ...during];
      const received = await recorder.waitFor(
        "user.created",
        all.length,
        (m) => all.includes(m.key ?? ""),
        30_000,
      );
      expect(new Set(received.map((m) => m.key))).toEqual(new Set(all));
    } finally {
      await recorder.stop();
    }
  }, 150_000);
});
