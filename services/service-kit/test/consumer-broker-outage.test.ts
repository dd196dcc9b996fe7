import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import pino from "pino";
import { KafkaBroker } from "../../../scripts/deps/kafka";
import { loadSettings } from "../../../scripts/deps/settings";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  serviceEnv,
} from "../../system-tests/support/environment";
import { publishRaw } from "../../system-tests/support/kafka";
import {
  createPool,
  Database,
  defineHandler,
  EventConsumer,
  loadConfig,
  Messaging,
  newEvent,
  ServiceMetrics,
  serviceEntry,
} from "../src";
import { serviceConfigSchema } from "../src/service";

// A private broker on its own ports and folder, so stopping it never disturbs the shared one.
const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-consumer-outage-"));
const settings = loadSettings({
  ...process.env,
  BLUEPRINT_LOCAL_DIR: localDir,
  BLUEPRINT_CACHE_DIR: loadSettings().cacheDir,
  KAFKA_PORT: process.env.OUTAGE_KAFKA_PORT ?? "59392",
  KAFKA_CONTROLLER_PORT: process.env.OUTAGE_KAFKA_CONTROLLER_PORT ?? "59393",
  KAFKA_HEAP_MB: "256",
});
const broker = new KafkaBroker(settings);
/**
 * Starts the broker, again while its stopped predecessor's sockets still hold the controller port
 * (TIME_WAIT, up to a minute), which makes a start fail with "Address already in use".
 */
const brokerUp = () =>
  eventually(
    "the broker started",
    async () => {
      await broker.up();
      return true;
    },
    90_000,
    1_000,
  );
// Shorter and longer than the session timeout the consumer had (30 s): neither may delay resumption.
const OUTAGES_S = [5, 40];
const RESUME_WITHIN_MS = 10_000;

function userCreated(name: string) {
  const userId = randomUUID();
  return newEvent("user.created", {
    user_id: userId,
    email: `${userId}@example.com`,
    name,
    created_at: new Date().toISOString(),
  });
}

describe("a consumer while its Kafka broker is down", () => {
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let db: Database;
  let consumer: EventConsumer;
  const consumed = new Map<string, number>();

  beforeAll(async () => {
    [dbInfo] = await Promise.all([createTestDatabase(), brokerUp()]);
    // A broker that has just started may still refuse topic creation; its folder is thrown away after.
    ns = await eventually("the test topics", () => createTestNamespace(broker.address), 30_000, 500);
    const config = loadConfig(
      serviceConfigSchema(serviceEntry("order-service")),
      serviceEnv("order", dbInfo.name, ns.namespace),
    );
    const metrics = new ServiceMetrics("order-service");
    db = new Database(createPool(config), metrics);
    const messaging = new Messaging({
      brokers: [broker.address],
      clientId: "consumer-outage-test",
      logger: pino({ level: "silent" }),
    });
    consumer = new EventConsumer(
      {
        group: "order-service",
        namespace: ns.namespace,
        db,
        messaging,
        admin: messaging.admin(),
        metrics,
        logger: pino({ level: "silent" }),
        maxAttempts: 3,
        backoffBaseMs: 50,
        backoffMaxMs: 400,
        concurrency: 3,
      },
      [
        defineHandler({
          topic: "user.created",
          eventType: "user.created",
          handle: async () => undefined,
          afterCommit: (event) => consumed.set(event.event_id, Date.now()),
        }),
      ],
    );
    await consumer.start();
  }, 120_000);

  afterAll(async () => {
    await consumer?.stop();
    await db?.end();
    await broker.down();
    await dbInfo?.drop();
    fs.rmSync(localDir, { recursive: true, force: true });
  }, 60_000);

  const deliver = async (name: string) => {
    const event = userCreated(name);
    // A broker that has just started may not yet know it leads the partition; publishing is retried.
    await eventually("the event published", async () => {
      await publishRaw(
        `${ns.namespace}user.created`,
        [{ key: event.user_id, value: JSON.stringify(event) }],
        broker.address,
      );
      return true;
    });
    return event;
  };

  it.each(OUTAGES_S)(
    "When the broker is down for %i s and comes back, then consumption resumes within 10 s",
    async (seconds) => {
      const warmup = await deliver("before the outage");
      await eventually("the event before the outage", async () => consumed.get(warmup.event_id), 30_000);

      await broker.down();
      await sleep(seconds * 1_000);
      await brokerUp();
      const back = Date.now();
      const after = await deliver("after the outage");
      const at = await eventually(
        "the event after the outage",
        async () => consumed.get(after.event_id),
        150_000,
        50,
      );
      const resumedMs = at - back;
      console.log(`broker down ${seconds} s: consumption resumed ${resumedMs} ms after it was back`);
      expect(resumedMs).toBeLessThan(RESUME_WITHIN_MS);
    },
    240_000,
  );
});
