import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { Client } from "pg";
import pino from "pino";
import {
  createTestDatabase,
  createTestNamespace,
  ENTRIES,
  eventually,
  KAFKA_BROKERS,
  PGHOST,
  PGPORT,
} from "../../system-tests/support/environment";
import { publishRaw, TopicRecorder } from "../../system-tests/support/kafka";
import type { EventTypes } from "../src";
import { userConsumer, userCreated } from "./support/user-consumer";

const { role, schema } = ENTRIES.order.database;

/**
 * Each fault is provoked for real in PostgreSQL while the consumer handles an event. The consumer
 * allows a single attempt, so any failure it counted would dead-letter the event at once.
 */
describe("consumer against transient PostgreSQL failures: waits them out, never dead-letters", () => {
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let consumer: ReturnType<typeof userConsumer>;
  let deadLetters: TopicRecorder;
  let superuser: Client;
  let holder: Client;
  const logs: Array<{ msg: string; err?: { code?: string } }> = [];

  const connect = async () => {
    const client = new Client({
      host: PGHOST,
      port: PGPORT,
      user: process.env.PGSUPERUSER ?? "postgres",
      password: process.env.PGSUPERPASSWORD ?? "postgres",
      database: dbInfo.name,
    });
    await client.connect();
    return client;
  };
  const publish = (event: EventTypes["user.created"]) =>
    publishRaw(`${ns.namespace}user.created`, [{ key: event.user_id, value: JSON.stringify(event) }]);
  const nameOf = async (id: string) =>
    (await superuser.query<{ name: string }>(`SELECT name FROM ${schema}.known_users WHERE id = $1`, [id]))
      .rows[0]?.name;
  const appliedOnce = async (event: EventTypes["user.created"]) => {
    await eventually(`${event.name} applied`, async () =>
      (await nameOf(event.user_id)) === event.name ? true : undefined,
    );
    const recorded = await superuser.query(`SELECT 1 FROM ${schema}.processed_events WHERE event_id = $1`, [
      event.event_id,
    ]);
    expect(recorded.rowCount).toBe(1);
    expect(deadLetters.messages.filter((m) => m.key === event.user_id)).toEqual([]);
  };
  const sawTransient = (code: string) =>
    logs.some((l) => l.msg === "transient failure; partition paused" && l.err?.code === code);
  /** A setting for the consumer's role in this database only; its pooled sessions reconnect to pick it up. */
  const setForConsumer = async (setting: string) => {
    await superuser.query(`ALTER ROLE ${role} IN DATABASE ${dbInfo.name} ${setting}`);
    await superuser.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = $2",
      [role, dbInfo.name],
    );
  };
  /** The consumer's session waiting for a lock the test holds. */
  const waitingPid = () =>
    eventually("the consumer waiting for the test's lock", async () => {
      const { rows } = await superuser.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE usename = $1 AND datname = $2 AND wait_event_type = 'Lock'",
        [role, dbInfo.name],
      );
      return rows[0]?.pid;
    });
  /** A user row the test locks in its own transaction (`holder`) before the consumer writes it. */
  const lockedUser = async () => {
    const id = randomUUID();
    await superuser.query(
      `INSERT INTO ${schema}.known_users (id, email, name, created_at) VALUES ($1, 'x@example.com', 'seed', now())`,
      [id],
    );
    await holder.query("BEGIN");
    await holder.query(`UPDATE ${schema}.known_users SET name = 'held' WHERE id = $1`, [id]);
    return id;
  };

  beforeAll(async () => {
    [dbInfo, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    [superuser, holder] = await Promise.all([connect(), connect()]);
    consumer = userConsumer({
      database: dbInfo.name,
      namespace: ns.namespace,
      brokers: KAFKA_BROKERS,
      maxAttempts: 1,
      logger: pino({ level: "warn" }, { write: (line: string) => logs.push(JSON.parse(line)) }),
      handler: {
        async handle(event, tx) {
          await tx.query(
            `INSERT INTO known_users (id, email, name, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`,
            [event.user_id, event.email, event.name, event.created_at],
          );
        },
      },
    });
    deadLetters = new TopicRecorder([`${ns.namespace}user.created.dlt`]);
    await Promise.all([consumer.consumer.start(), deadLetters.start()]);
  }, 60_000);

  beforeEach(() => {
    logs.length = 0;
  });

  afterEach(async () => {
    // A failed test must not leave its lock behind for the next.
    await holder.query("ROLLBACK");
  });

  afterAll(async () => {
    await holder?.query("ROLLBACK").catch(() => undefined);
    await Promise.all([holder?.end(), superuser?.end()]);
    await consumer?.stop();
    await deadLetters?.stop();
    await Promise.all([dbInfo?.drop(), ns?.drop()]);
  });

  it("When the consumer's serializable transaction loses to a concurrent update (40001), then it is retried and applied once", async () => {
    await setForConsumer("SET default_transaction_isolation = 'serializable'");
    try {
      const event = userCreated("after a serialization failure", await lockedUser());
      await publish(event);
      await waitingPid();
      await holder.query("COMMIT");
      await appliedOnce(event);
      expect(sawTransient("40001")).toBe(true);
    } finally {
      await setForConsumer("RESET default_transaction_isolation");
    }
  });

  it("When the consumer's transaction is chosen to break a deadlock (40P01), then it is retried and applied once", async () => {
    const event = userCreated("after a deadlock", await lockedUser());
    // The test's session waits longer before checking for deadlocks, so the consumer's is the victim.
    await holder.query("SET LOCAL deadlock_timeout = '10s'");
    await publish(event);
    await waitingPid();
    // The consumer has claimed the event id and waits for the user row; the test now waits for the id.
    await holder.query(
      `INSERT INTO ${schema}.processed_events (event_id, event_type, topic, kafka_partition, kafka_offset)
       VALUES ($1, 'user.created', 'user.created', 0, 0)`,
      [event.event_id],
    );
    await holder.query("ROLLBACK");
    await appliedOnce(event);
    expect(sawTransient("40P01")).toBe(true);
  });

  it("When a lock stays unavailable past lock_timeout (55P03) for seconds, then the partition waits and applies the event once the lock is released", async () => {
    await setForConsumer("SET lock_timeout = '100ms'");
    try {
      const event = userCreated("after a lock timeout", await lockedUser());
      await publish(event);
      await sleep(2_000);
      expect(await nameOf(event.user_id)).not.toBe(event.name);
      expect(deadLetters.messages).toEqual([]);
      await holder.query("ROLLBACK");
      await appliedOnce(event);
      expect(sawTransient("55P03")).toBe(true);
    } finally {
      await setForConsumer("RESET lock_timeout");
    }
  });

  it("When the database is read-only for seconds, as during a failover (25006), then the event waits and is applied once it is writable", async () => {
    await setForConsumer("SET default_transaction_read_only = on");
    let restored = false;
    try {
      const event = userCreated("after a read-only spell");
      await publish(event);
      await sleep(2_000);
      expect(await nameOf(event.user_id)).toBeUndefined();
      expect(deadLetters.messages).toEqual([]);
      await setForConsumer("RESET default_transaction_read_only");
      restored = true;
      await appliedOnce(event);
      expect(sawTransient("25006")).toBe(true);
    } finally {
      if (!restored) await setForConsumer("RESET default_transaction_read_only");
    }
  });

  it("When the consumer's session is terminated mid-transaction (57P01), then the event is retried and applied once", async () => {
    const event = userCreated("after a terminated session", await lockedUser());
    await publish(event);
    await superuser.query("SELECT pg_terminate_backend($1)", [await waitingPid()]);
    await holder.query("ROLLBACK");
    await appliedOnce(event);
    expect(sawTransient("57P01")).toBe(true);
  });

  it("When the handler fails for a permanent reason, then the event is still dead-lettered after the configured attempts", async () => {
    const doomed = userCreated("nul\u0000byte");
    const next = userCreated("next in line");
    await publishRaw(`${ns.namespace}user.created`, [
      { key: doomed.user_id, value: JSON.stringify(doomed) },
      { key: doomed.user_id, value: JSON.stringify(next) },
    ]);
    const [parked] = await deadLetters.waitFor(
      `${ns.namespace}user.created.dlt`,
      1,
      (m) => m.key === doomed.user_id,
    );
    expect(parked?.headers["dlt-attempts"]).toBe("1");
    expect(parked?.headers["dlt-error"]).toMatch(/0x00/);
    await eventually("the next event on the partition", async () =>
      (await nameOf(next.user_id)) === next.name ? true : undefined,
    );
  });
});
