import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, createTestNamespace, eventually } from "../../system-tests/support/environment";
import { privateBroker, publishRaw } from "../../system-tests/support/kafka";
import { userConsumer, userCreated } from "./support/user-consumer";

const { broker, remove: removeBroker } = privateBroker("consumer-outage");
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

describe("a consumer while its Kafka broker is down", () => {
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let consumer: ReturnType<typeof userConsumer>;
  const consumed = new Map<string, number>();

  beforeAll(async () => {
    [dbInfo] = await Promise.all([createTestDatabase(), brokerUp()]);
    // A broker that has just started may still refuse topic creation; its folder is thrown away after.
    ns = await eventually("the test topics", () => createTestNamespace(broker.address), 30_000, 500);
    consumer = userConsumer({
      database: dbInfo.name,
      namespace: ns.namespace,
      brokers: broker.address,
      handler: {
        handle: async () => undefined,
        afterCommit: (event) => consumed.set(event.event_id, Date.now()),
      },
    });
    await consumer.consumer.start();
  }, 120_000);

  afterAll(async () => {
    await consumer?.stop();
    await broker.down();
    await dbInfo?.drop();
    removeBroker();
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
