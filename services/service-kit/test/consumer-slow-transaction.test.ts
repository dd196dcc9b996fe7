import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import pino from "pino";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  KAFKA_BROKERS,
} from "../../system-tests/support/environment";
import { publishRaw } from "../../system-tests/support/kafka";
import { userConsumer, userCreated } from "./support/user-consumer";

/** Longer than the consumers' 6 s session timeout. */
const SLOW_MS = 9_000;

describe("a consumer whose transaction outlasts the session timeout", () => {
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let harness: ReturnType<typeof userConsumer>;
  const logs: Array<{ msg: string }> = [];
  let handled = 0;
  let committed = 0;

  beforeAll(async () => {
    [dbInfo, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    harness = userConsumer({
      database: dbInfo.name,
      namespace: ns.namespace,
      brokers: KAFKA_BROKERS,
      logger: pino({ level: "info" }, { write: (line: string) => logs.push(JSON.parse(line)) }),
      handler: {
        handle: async () => {
          handled += 1;
          if (handled === 1) await sleep(SLOW_MS);
        },
        afterCommit: () => {
          committed += 1;
        },
      },
    });
    await harness.consumer.start();
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
    await Promise.all([dbInfo?.drop(), ns?.drop()]);
  });

  it("When handling takes longer than the session timeout, then the member keeps its partitions and the event is processed once", async () => {
    const event = userCreated("slow");
    await publishRaw(`${ns.namespace}user.created`, [{ key: event.user_id, value: JSON.stringify(event) }]);
    await eventually("the slow event committed", async () => (committed > 0 ? true : undefined), 30_000);
    // Had the member been evicted, its partition would be reassigned and the event delivered again.
    await sleep(8_000);
    expect(committed).toBe(1);
    expect(logs.filter((l) => /duplicate event/.test(l.msg))).toEqual([]);
    expect(harness.consumer.state()).toBe("running");
  }, 60_000);
});
