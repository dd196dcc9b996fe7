import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { newEvent, type RunningService, startService } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  PGHOST,
  PGPORT,
  serviceEnv,
} from "../../system-tests/support/environment";
import { publishRaw, TopicRecorder } from "../../system-tests/support/kafka";
import { TcpProxy } from "../../system-tests/support/tcp-proxy";
import { orderService } from "../src/service";

function userCreated(name = "Someone", userId = randomUUID()) {
  return newEvent("user.created", {
    user_id: userId,
    email: `${userId}@example.com`,
    name,
    created_at: new Date().toISOString(),
  });
}

describe("order-service user.created consumer: idempotent, retried, dead-lettered, paused on outage", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let svc: RunningService;
  let deadLetters: TopicRecorder;
  const topic = () => `${ns.namespace}user.created`;
  const known = async (id: string) =>
    (await svc.context.db.query<{ name: string }>("SELECT name FROM known_users WHERE id = $1", [id]))
      .rows[0];

  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    svc = await startService(orderService, {
      env: serviceEnv("order", db.name, ns.namespace, { CONSUMER_MAX_ATTEMPTS: "3" }),
    });
    deadLetters = new TopicRecorder([`${ns.namespace}user.created.dlt`]);
    await deadLetters.start();
  }, 60_000);

  afterAll(async () => {
    await deadLetters?.stop();
    await svc?.stop();
    await Promise.all([db?.drop(), ns?.drop()]);
  });

  it("When the same event is delivered twice, then the projection changes once", async () => {
    const event = userCreated("First");
    const replay = { ...event, name: "Second delivery must not apply" };
    const sentinel = userCreated("Sentinel");
    await publishRaw(topic(), [
      { key: event.user_id, value: JSON.stringify(event) },
      { key: event.user_id, value: JSON.stringify(replay) },
    ]);
    await publishRaw(topic(), [
      { key: event.user_id, value: JSON.stringify({ ...sentinel, user_id: sentinel.user_id }) },
    ]);
    await eventually("the sentinel after both deliveries", () => known(sentinel.user_id));
    expect(await known(event.user_id)).toEqual({ name: "First" });
    const processed = await svc.context.db.query("SELECT 1 FROM processed_events WHERE event_id = $1", [
      event.event_id,
    ]);
    expect(processed.rowCount).toBe(1);
  });

  it("When poison events arrive (not JSON, contract broken), then they land in the dead-letter topic with their headers and the error while later events flow", async () => {
    const key = randomUUID();
    const good = userCreated("After the poison", key);
    const { email: _dropped, ...noEmail } = userCreated("No email", key);
    await publishRaw(topic(), [
      { key, value: "{not json", headers: { "x-trace": "poison-1" } },
      { key, value: JSON.stringify(noEmail), headers: { "x-trace": "poison-2" } },
      { key, value: JSON.stringify(good) },
    ]);
    await eventually("the good event behind the poison", () => known(key));
    const parked = await deadLetters.waitFor(`${ns.namespace}user.created.dlt`, 2, (m) => m.key === key);
    expect(parked.map((m) => m.value)).toEqual(["{not json", JSON.stringify(noEmail)]);
    expect(parked[0]?.headers).toMatchObject({
      "x-trace": "poison-1",
      "dlt-error": "message value is not valid JSON",
      "dlt-error-type": "ContractError",
      "dlt-original-topic": "user.created",
      "dlt-consumer-group": "order-service",
      "dlt-original-offset": expect.stringMatching(/^\d+$/),
    });
    expect(parked[1]?.headers["dlt-error"]).toMatch(/must have required property 'email'/);
  });

  it("When an event fails in the handler every time, then it is retried with backoff and dead-lettered after the last attempt, and the partition moves on", async () => {
    const key = randomUUID();
    // Valid by contract, but PostgreSQL rejects NUL characters in text: a failure no retry can fix.
    const doomed = userCreated("nul\u0000byte", key);
    const next = userCreated("Next in line");
    const started = Date.now();
    await publishRaw(topic(), [
      { key, value: JSON.stringify(doomed), headers: { "x-trace": "doomed" } },
      { key, value: JSON.stringify(next) },
    ]);
    const [parked] = await deadLetters.waitFor(
      `${ns.namespace}user.created.dlt`,
      1,
      (m) => m.headers["x-trace"] === "doomed",
    );
    expect(parked?.headers["dlt-attempts"]).toBe("3");
    expect(parked?.headers["dlt-error"]).toMatch(/invalid byte sequence|0x00/);
    // Two waits of base 50 ms doubling with equal jitter: at least 25 + 50 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    await eventually("the next event on the partition", () => known(next.user_id));
    const metrics = await svc.context.metrics.render();
    expect(metrics).toMatch(
      /events_retried_total\{topic="user.created",group="order-service",service="order-service"\} [2-9]/,
    );
    expect(metrics).toMatch(
      /events_dead_lettered_total\{topic="user.created",group="order-service",service="order-service"\} [3-9]/,
    );
  });

  it("When PostgreSQL becomes unreachable, then consumption pauses without dead-lettering and resumes when it is back", async () => {
    const proxy = new TcpProxy(PGHOST, PGPORT);
    await proxy.start();
    const outageNs = await createTestNamespace();
    const isolated = await startService(orderService, {
      env: serviceEnv("order", db.name, outageNs.namespace, { PGPORT: String(proxy.port) }),
    });
    const outageDlt = new TopicRecorder([`${outageNs.namespace}user.created.dlt`]);
    await outageDlt.start();
    try {
      const warmup = userCreated("Warm-up");
      await publishRaw(`${outageNs.namespace}user.created`, [
        { key: warmup.user_id, value: JSON.stringify(warmup) },
      ]);
      await eventually("the warm-up event", () => known(warmup.user_id));

      await proxy.cut();
      const during = [userCreated("During 1"), userCreated("During 2"), userCreated("During 3")];
      await publishRaw(
        `${outageNs.namespace}user.created`,
        during.map((e) => ({ key: e.user_id, value: JSON.stringify(e) })),
      );
      await sleep(3_000);
      for (const e of during) expect(await known(e.user_id)).toBeUndefined();
      expect(outageDlt.messages).toEqual([]);

      await proxy.restore();
      for (const e of during) await eventually(`${e.name} after the outage`, () => known(e.user_id), 20_000);
      expect(outageDlt.messages).toEqual([]);
      expect(await isolated.context.metrics.render()).toMatch(
        /db_connection_errors_total\{service="order-service"\} [1-9]/,
      );
    } finally {
      await outageDlt.stop();
      await isolated.stop();
      await proxy.stop();
      await outageNs.drop();
    }
  }, 60_000);
});
