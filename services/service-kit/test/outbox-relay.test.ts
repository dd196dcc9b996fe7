import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  KAFKA_BROKERS,
  quietLogger,
  serviceEnv,
} from "../../system-tests/support/environment";
import { TopicRecorder } from "../../system-tests/support/kafka";
import {
  appendToOutbox,
  CLAIM_SQL,
  ContractError,
  createPool,
  Database,
  loadConfig,
  Messaging,
  newEvent,
  OutboxRelay,
  ServiceMetrics,
  serviceEntry,
} from "../src";
import { serviceConfigSchema } from "../src/service";

describe("outbox relay against the real PostgreSQL and Kafka", () => {
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let db: Database;
  const metrics = new ServiceMetrics("user-service");
  const messaging = new Messaging({
    brokers: KAFKA_BROKERS.split(","),
    clientId: "relay-test",
    logger: quietLogger,
  });

  beforeAll(async () => {
    [dbInfo, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    const config = loadConfig(
      serviceConfigSchema(serviceEntry("user-service")),
      serviceEnv("user", dbInfo.name, ns.namespace),
    );
    db = new Database(createPool(config), metrics);
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await Promise.all([dbInfo?.drop(), ns?.drop()]);
  });

  const relay = (batchSize = 25) =>
    new OutboxRelay({
      db,
      producer: messaging.producer(),
      metrics,
      logger: quietLogger,
      topics: serviceEntry("user-service").produces,
      namespace: ns.namespace,
      batchSize,
      pollIntervalMs: 20,
      lingerMs: 5,
      retentionMinutes: 60,
    });

  it("When three relays publish the same backlog, then every event is published once and each key keeps its order", async () => {
    const keys = Array.from({ length: 40 }, () => randomUUID());
    const messages = keys.flatMap((key) =>
      Array.from({ length: 10 }, (_, seq) => ({
        topic: "user.created",
        key,
        event: {
          ...newEvent("user.created", {
            user_id: key,
            email: `${seq}@example.com`,
            name: `seq ${seq}`,
            created_at: new Date().toISOString(),
          }),
        },
      })),
    );
    // Interleave keys so that every batch holds many keys and several events of some.
    messages.sort((a, b) => Number(a.event.email.split("@")[0]) - Number(b.event.email.split("@")[0]));
    await db.transaction((tx) => appendToOutbox(tx, messages));

    const recorder = new TopicRecorder([`${ns.namespace}user.created`]);
    await recorder.start();
    const relays = [relay(), relay(), relay()];
    await Promise.all(relays.map((r) => r.start()));
    try {
      const received = await recorder.waitFor(
        `${ns.namespace}user.created`,
        messages.length,
        () => true,
        30_000,
      );
      const ids = received.map((m) => JSON.parse(m.value ?? "{}").event_id);
      expect(new Set(ids).size).toBe(messages.length);
      expect(received).toHaveLength(messages.length);
      for (const key of keys) {
        const order = received.filter((m) => m.key === key).map((m) => JSON.parse(m.value ?? "{}").name);
        expect(order).toEqual(Array.from({ length: 10 }, (_, seq) => `seq ${seq}`));
      }
      const unsent = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL",
      );
      expect(unsent.rows[0]?.n).toBe(0);
      expect(await metrics.render()).toMatch(/outbox_backlog\{service="user-service"\} 0/);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await recorder.stop();
    }
  }, 60_000);

  it("When the relay is stopped with rows pending and started again, then the rows are published after the restart", async () => {
    const key = randomUUID();
    const first = relay();
    await first.start();
    await first.stop();
    const event = newEvent("user.created", {
      user_id: key,
      email: "later@example.com",
      name: "Later",
      created_at: new Date().toISOString(),
    });
    await db.transaction((tx) => appendToOutbox(tx, [{ topic: "user.created", key, event }]));
    expect(await metrics.render()).toMatch(/outbox_backlog\{service="user-service"\} 1/);

    const recorder = new TopicRecorder([`${ns.namespace}user.created`]);
    await recorder.start();
    const second = relay();
    await second.start();
    try {
      await recorder.waitFor(`${ns.namespace}user.created`, 1, (m) => m.key === key);
    } finally {
      await second.stop();
      await recorder.stop();
    }
  }, 60_000);

  it("When a relay without tracing publishes a row written in a trace (another replica's), then the message keeps the row's traceparent", async () => {
    const key = randomUUID();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const event = newEvent("user.created", {
      user_id: key,
      email: "traced@example.com",
      name: "Traced",
      created_at: new Date().toISOString(),
    });
    await db.transaction((tx) =>
      appendToOutbox(tx, [{ topic: "user.created", key, event, headers: { traceparent } }]),
    );
    const recorder = new TopicRecorder([`${ns.namespace}user.created`]);
    await recorder.start();
    const untraced = relay();
    await untraced.start();
    try {
      const [message] = await recorder.waitFor(`${ns.namespace}user.created`, 1, (m) => m.key === key);
      expect(message?.headers.traceparent).toBe(traceparent);
    } finally {
      await untraced.stop();
      await recorder.stop();
    }
  }, 60_000);

  it("When a relay has published nothing yet, then events_published_total is 0 for every topic its service publishes", async () => {
    const fresh = new ServiceMetrics("user-service");
    new OutboxRelay({
      db,
      producer: messaging.producer(),
      metrics: fresh,
      logger: quietLogger,
      topics: serviceEntry("user-service").produces,
      namespace: ns.namespace,
      batchSize: 25,
      pollIntervalMs: 20,
      lingerMs: 5,
      retentionMinutes: 60,
    });

    const published = (await fresh.registry.getSingleMetric("events_published_total")?.get())?.values;

    expect(published).toEqual([{ labels: { topic: "user.created" }, value: 0 }]);
  });

  it("When an event breaks its contract, then appending it fails and nothing is written", async () => {
    const key = randomUUID();
    const event = newEvent("user.created", {
      user_id: key,
      email: "user@foo-.com",
      name: "Broken",
      created_at: new Date().toISOString(),
    });
    await expect(
      db.transaction((tx) => appendToOutbox(tx, [{ topic: "user.created", key, event }])),
    ).rejects.toThrow(ContractError);
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox WHERE message_key = $1",
      [key],
    );
    expect(rows[0]?.n).toBe(0);
  });

  it("When events are written faster than the old cleanup deleted them, then the outbox is empty soon after they are published", async () => {
    const relayer = relay(500);
    await relayer.start();
    try {
      // 10 writes of 500 events, 100 ms apart: 5,000 events/s, twice the rate POST /users reaches.
      for (let write = 0; write < 10; write++) {
        const messages = Array.from({ length: 500 }, () => {
          const key = randomUUID();
          const event = newEvent("user.created", {
            user_id: key,
            email: `${key}@example.com`,
            name: "Rate",
            created_at: new Date().toISOString(),
          });
          return { topic: "user.created", key, event };
        });
        await db.transaction((tx) => appendToOutbox(tx, messages));
        relayer.written();
        await sleep(100);
      }
      const left = await eventually(
        "the outbox to be empty",
        async () => {
          const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox");
          return rows[0]?.n === 0 ? 0 : undefined;
        },
        5_000,
      );
      expect(left).toBe(0);
    } finally {
      await relayer.stop();
    }
  }, 60_000);

  it("When the outbox holds a backlog of 20,000 unsent rows, then the relay's claim reads its batch through indexes, never the whole table, and unsent rows have one index of their own", async () => {
    await db.query(
      `INSERT INTO outbox (event_id, topic, message_key, payload, headers)
       SELECT gen_random_uuid(), 'user.created', gen_random_uuid()::text, '{}', '{}'
         FROM generate_series(1, 20000)`,
    );
    try {
      await db.query("ANALYZE outbox");
      const plan = await db.transaction((tx) =>
        tx.query<{ "QUERY PLAN": string }>(`EXPLAIN (COSTS OFF) ${CLAIM_SQL}`, [500]),
      );
      const steps = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
      expect(steps).not.toMatch(/Seq Scan/);
      expect(steps).toMatch(/Index Scan using outbox_pkey on outbox o\b/);
      expect(steps).toMatch(/Index Scan using outbox_unsent_key on outbox p\b/);
      const indexes = await db.query<{ indexname: string }>(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'outbox' ORDER BY 1",
      );
      expect(indexes.rows.map((row) => row.indexname)).toEqual([
        "outbox_event_id_key",
        "outbox_pkey",
        "outbox_unsent_key",
      ]);
    } finally {
      await db.query("DELETE FROM outbox");
    }
  });
});
