import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Kafka, logLevel } from "kafkajs";

const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const kafka = new Kafka({
  clientId: "kit-roundtrip-test",
  brokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 2 },
});
const topic = `test.roundtrip.${randomUUID()}`;
const admin = kafka.admin();

describe("Kafka round trip through the real broker", () => {
  beforeAll(async () => {
    await admin.connect();
    // Brokers run with auto.create.topics.enable=false, so the test creates its own topic.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    });
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("When a message is produced, then a consumer in a new group receives the same key, headers and payload", async () => {
    const payload = { event_id: randomUUID(), event_type: "test.roundtrip", at: new Date().toISOString() };
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: "aggregate-1",
          value: JSON.stringify(payload),
          headers: { "content-type": "application/json" },
        },
      ],
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `roundtrip-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: unknown; header: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message within 20 s")), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({
            key: message.key?.toString() ?? "",
            value: JSON.parse(message.value?.toString() ?? "null"),
            header: message.headers?.["content-type"]?.toString() ?? "",
          });
        },
      });
    });
    await consumer.disconnect();

    expect(received).toEqual({ key: "aggregate-1", value: payload, header: "application/json" });
  });
});
