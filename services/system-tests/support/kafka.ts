import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type IncomingMessage,
  type MessageConsumer,
  Messaging,
  type OutgoingMessage,
} from "@blueprint/service-kit";
import { KafkaBroker } from "../../../scripts/deps/kafka";
import { loadSettings } from "../../../scripts/deps/settings";
import { eventually, KAFKA_BROKERS, quietLogger } from "./environment";

/** Collects every message of some topics from the beginning, in a consumer group of its own. */
export class TopicRecorder {
  readonly messages: IncomingMessage[] = [];
  private consumer: MessageConsumer | undefined;

  constructor(
    private readonly topics: readonly string[],
    private readonly brokers = KAFKA_BROKERS,
  ) {}

  async start(): Promise<void> {
    const messaging = new Messaging({
      brokers: this.brokers.split(","),
      clientId: "test-recorder",
      logger: quietLogger,
    });
    this.consumer = messaging.consumer({ groupId: `recorder-${randomUUID()}` });
    await this.consumer.start(this.topics, async (messages, control) => {
      this.messages.push(...messages);
      const last = messages[messages.length - 1];
      if (last) control.resolve(last.offset);
    });
  }

  on(topic: string): IncomingMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Waits until `count` messages on `topic` match `filter`, and returns them. */
  waitFor(
    topic: string,
    count: number,
    filter: (m: IncomingMessage) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<IncomingMessage[]> {
    return eventually(
      `${count} message(s) on ${topic}`,
      async () => {
        const found = this.on(topic).filter(filter);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}

/** Publishes raw messages, as a misbehaving or replaying producer would. */
export async function publishRaw(
  topic: string,
  messages: OutgoingMessage[],
  brokers = KAFKA_BROKERS,
): Promise<void> {
  const producer = new Messaging({
    brokers: brokers.split(","),
    clientId: "test-publisher",
    logger: quietLogger,
  }).producer();
  await producer.connect();
  try {
    await producer.send([{ topic, messages }]);
  } finally {
    await producer.disconnect();
  }
}

/**
 * A private broker on its own ports and folder, so stopping it never disturbs the shared one.
 * `OUTAGE_KAFKA_PORT` and `OUTAGE_KAFKA_CONTROLLER_PORT` move the ports; `remove()` deletes its folder.
 */
export function privateBroker(name: string): { broker: KafkaBroker; remove(): void } {
  const localDir = fs.mkdtempSync(path.join(os.tmpdir(), `blueprint-${name}-`));
  const settings = loadSettings({
    ...process.env,
    BLUEPRINT_LOCAL_DIR: localDir,
    BLUEPRINT_CACHE_DIR: loadSettings().cacheDir,
    KAFKA_PORT: process.env.OUTAGE_KAFKA_PORT ?? "59392",
    KAFKA_CONTROLLER_PORT: process.env.OUTAGE_KAFKA_CONTROLLER_PORT ?? "59393",
    KAFKA_HEAP_MB: "256",
  });
  return {
    broker: new KafkaBroker(settings),
    remove: () => fs.rmSync(localDir, { recursive: true, force: true }),
  };
}
