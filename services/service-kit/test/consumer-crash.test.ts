import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AssignerProtocol, type Consumer, Kafka, logLevel, type PartitionAssigner } from "kafkajs";
import pino from "pino";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  KAFKA_BROKERS,
} from "../../system-tests/support/environment";
import { publishRaw } from "../../system-tests/support/kafka";
import type { EventConsumer } from "../src";
import { userConsumer, userCreated } from "./support/user-consumer";

/**
 * A group member speaking another assignment protocol, as a foreign client or a replica with other
 * settings would: the broker rejects any other joining member with INCONSISTENT_GROUP_PROTOCOL,
 * which kafkajs treats as a crash it does not restart from.
 */
const foreignAssigner: PartitionAssigner = () => ({
  name: "ForeignAssigner",
  version: 0,
  async assign({ members }) {
    return members.map((m) => ({
      memberId: m.memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol: ({ topics }) => ({
    name: "ForeignAssigner",
    metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
  }),
});

describe("a consumer whose Kafka client crashes for good", () => {
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let harness: ReturnType<typeof userConsumer>;
  let consumer: EventConsumer;
  let foreign: Consumer;
  const logs: Array<{ msg: string }> = [];
  const consumed = new Set<string>();

  beforeAll(async () => {
    [dbInfo, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    harness = userConsumer({
      database: dbInfo.name,
      namespace: ns.namespace,
      brokers: KAFKA_BROKERS,
      logger: pino({ level: "warn" }, { write: (line: string) => logs.push(JSON.parse(line)) }),
      handler: { handle: async () => undefined, afterCommit: (event) => consumed.add(event.event_id) },
    });
    consumer = harness.consumer;
    foreign = new Kafka({
      clientId: "foreign",
      brokers: KAFKA_BROKERS.split(","),
      logLevel: logLevel.NOTHING,
    }).consumer({ groupId: consumer.groupId, partitionAssigners: [foreignAssigner] });
    await foreign.connect();
    await foreign.subscribe({ topics: [`${ns.namespace}user.created`] });
    // Assigned nothing and committing nothing, it only holds the group's protocol.
    await foreign.run({ autoCommit: false, eachMessage: async () => undefined });
  }, 60_000);

  afterAll(async () => {
    await foreign?.disconnect();
    await harness?.stop();
    await Promise.all([dbInfo?.drop(), ns?.drop()]);
  });

  it("When the client crashes without restarting itself, then the consumer says so, restarts it with backoff, and consumes once the cause is gone", async () => {
    const exposed = await harness.metrics.registry.metrics();
    expect(exposed).toMatch(
      /kafka_consumer_restarts_total\{group="order-service",service="order-service"\} 0/,
    );
    for (const name of ["events_consumed_total", "events_retried_total", "events_dead_lettered_total"])
      expect(exposed).toMatch(
        new RegExp(`${name}\\{topic="user.created",group="order-service",service="order-service"\\} 0`),
      );
    await consumer.start();
    await eventually("the crash reported", async () =>
      consumer.state() === "restarting" ? true : undefined,
    );
    expect(logs.some((l) => l.msg === "consumer crashed; restarting")).toBe(true);

    const event = userCreated("after the crash");
    await publishRaw(`${ns.namespace}user.created`, [{ key: event.user_id, value: JSON.stringify(event) }]);
    await sleep(3_000);
    expect(consumed.has(event.event_id)).toBe(false);
    expect(consumer.state()).not.toBe("running");
    const restarts = async () =>
      (await harness.metrics.registry.getSingleMetric("kafka_consumer_restarts_total")?.get())?.values;
    expect(await restarts()).toEqual([
      expect.objectContaining({ labels: { group: "order-service" }, value: expect.any(Number) }),
    ]);
    expect((await restarts())?.[0]?.value).toBeGreaterThanOrEqual(2);

    await foreign.disconnect();
    await eventually(
      "the event after the restart",
      async () => (consumed.has(event.event_id) ? true : undefined),
      45_000,
    );
    expect(consumer.state()).toBe("running");
  }, 90_000);
});
