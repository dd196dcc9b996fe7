import { setTimeout as sleep } from "node:timers/promises";
import { createPool, Database, loadConfig, ServiceMetrics } from "@blueprint/service-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, quietLogger, serviceEnv } from "../../system-tests/support/environment";
import { freePort } from "../../system-tests/support/processes";
import { NotificationRepository } from "../src/data-access/notification-repository";
import { smtpMailer } from "../src/data-access/smtp-mailer";
import { DeliveryWorker } from "../src/domain/delivery";
import type { NewNotification } from "../src/domain/notifications";
import { configSchema } from "../src/service";
import { welcomeNotification } from "./support/fixtures";
import { ScriptedSmtp } from "./support/scripted-smtp";

interface Row {
  status: string;
  attempts: number;
  last_error: string | null;
}

describe("notification delivery: retries, refusals and bookkeeping failures", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let repository: NotificationRepository;
  const smtp = new ScriptedSmtp();
  const workers: DeliveryWorker[] = [];

  const worker = (
    options: {
      smtpPort?: number;
      repository?: NotificationRepository;
      giveUpAfterSeconds?: number;
      metrics?: ServiceMetrics;
      leaseSeconds?: number;
      concurrency?: number;
    } = {},
  ) => {
    const mailer = smtpMailer({
      host: "127.0.0.1",
      port: options.smtpPort ?? smtp.port,
      secure: false,
      from: "Shop <no-reply@shop.example>",
    });
    const w = new DeliveryWorker({
      repository: options.repository ?? repository,
      mailer: { ...mailer, concurrency: options.concurrency ?? mailer.concurrency },
      metrics: options.metrics ?? new ServiceMetrics("notification-service", ["notifications_total"]),
      logger: quietLogger,
      batchSize: 10,
      pollIntervalMs: 50,
      // Retries are due at once, so each deliverBatch below is one more attempt.
      backoffBaseMs: 0,
      backoffMaxMs: 0,
      giveUpAfterSeconds: options.giveUpAfterSeconds ?? 86_400,
      leaseSeconds: options.leaseSeconds ?? 60,
    });
    workers.push(w);
    return w;
  };
  const record = async (): Promise<NewNotification> => {
    const n = welcomeNotification();
    await repository.insert(n, db);
    return n;
  };
  const row = async (id: string): Promise<Row> =>
    (await db.query<Row>("SELECT status, attempts, last_error FROM notifications WHERE id = $1", [id]))
      .rows[0] as Row;

  beforeAll(async () => {
    [testDb] = await Promise.all([createTestDatabase(), smtp.start()]);
    const config = loadConfig(configSchema, serviceEnv("notification", testDb.name, ""));
    db = new Database(createPool(config), new ServiceMetrics("notification-service"));
    repository = new NotificationRepository(db);
  }, 60_000);

  afterEach(async () => {
    // Each test's rows are settled before the next claims anything.
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await db.query("DELETE FROM notifications");
  });

  afterAll(async () => {
    await db?.end();
    await smtp.stop();
    await testDb?.drop();
  });

  it("When the worker starts, then every type's sent, retrying and failed counts are exposed at 0, so the first retry or failure is an increase", async () => {
    const metrics = new ServiceMetrics("notification-service", ["notifications_total"]);
    worker({ metrics });
    const exposed = (await metrics.registry.metrics())
      .split("\n")
      .filter((line) => line.startsWith("notifications_total{"))
      .map((line) => line.replace(/,service="notification-service"/, ""))
      .sort();
    expect(exposed).toEqual(
      ["order_confirmation", "welcome"].flatMap((type) =>
        ["failed", "retrying", "sent"].map(
          (status) => `notifications_total{type="${type}",status="${status}"} 0`,
        ),
      ),
    );
  });

  it("When the server refuses with 5xx, then the notification fails with the server's reason and is not attempted again", async () => {
    const n = await record();
    smtp.reply(n.recipient, { code: 550, message: "5.1.1 mailbox does not exist" });
    const w = worker();
    expect(await w.deliverBatch()).toBe(1);
    expect(await row(n.id)).toEqual({
      status: "failed",
      attempts: 1,
      last_error: expect.stringMatching(/550 5\.1\.1 mailbox does not exist/),
    });
    expect(await w.deliverBatch()).toBe(0);
    expect(smtp.to(n.recipient)).toHaveLength(1);
  });

  it("When the server answers 4xx, then the email is retried with the same Message-ID until accepted", async () => {
    const n = await record();
    const busy = { code: 451, message: "4.3.2 try again later" };
    smtp.reply(n.recipient, busy, busy);
    const w = worker();
    await w.deliverBatch();
    expect(await row(n.id)).toEqual({
      status: "retrying",
      attempts: 1,
      last_error: expect.stringMatching(/451/),
    });
    await w.deliverBatch();
    await w.deliverBatch();
    expect(await row(n.id)).toEqual({ status: "sent", attempts: 3, last_error: null });
    expect(smtp.to(n.recipient)).toEqual([
      { to: [n.recipient], messageId: `<${n.id}@shop.example>`, accepted: false },
      { to: [n.recipient], messageId: `<${n.id}@shop.example>`, accepted: false },
      { to: [n.recipient], messageId: `<${n.id}@shop.example>`, accepted: true },
    ]);
  });

  it("When SMTP stays unreachable past the give-up age, then the notification fails naming the age and the error", async () => {
    const n = await record();
    const w = worker({ smtpPort: await freePort(), giveUpAfterSeconds: 1 });
    await w.deliverBatch();
    expect(await row(n.id)).toMatchObject({
      status: "retrying",
      last_error: expect.stringMatching(/ECONNREFUSED/),
    });
    await sleep(1_100);
    await w.deliverBatch();
    expect(await row(n.id)).toEqual({
      status: "failed",
      attempts: 2,
      last_error: expect.stringMatching(/^gave up after 1 s undelivered: .*ECONNREFUSED/),
    });
  });

  it("When recording a sent email fails, then the record is retried and the email is not sent again", async () => {
    const n = await record();
    let failures = 1;
    const flaky = new (class extends NotificationRepository {
      override async recordSent(id: string, claimId: string): Promise<boolean> {
        if (failures-- > 0) throw new Error("connection terminated unexpectedly");
        return super.recordSent(id, claimId);
      }
    })(db);
    const w = worker({ repository: flaky });
    await w.deliverBatch();
    expect(await row(n.id)).toEqual({ status: "sent", attempts: 1, last_error: null });
    expect(await w.deliverBatch()).toBe(0);
    expect(smtp.to(n.recipient)).toEqual([expect.objectContaining({ accepted: true })]);
  });

  it("When the database is away after a send for longer than the lease, then the record waits for it and the email is not sent again", async () => {
    const n = await record();
    const downUntil = Date.now() + 1_500;
    const down = () => {
      if (Date.now() < downUntil) throw new Error("connection terminated unexpectedly");
    };
    const away = new (class extends NotificationRepository {
      override async recordSent(id: string, claimId: string): Promise<boolean> {
        down();
        return super.recordSent(id, claimId);
      }
      override async renewClaims(claimIds: readonly string[], leaseSeconds: number): Promise<Set<string>> {
        down();
        return super.renewClaims(claimIds, leaseSeconds);
      }
    })(db);
    const w = worker({ repository: away, leaseSeconds: 1 });
    expect(await w.deliverBatch()).toBe(1);
    expect(await row(n.id)).toEqual({ status: "sent", attempts: 1, last_error: null });
    await sleep(1_100);
    expect(await w.deliverBatch()).toBe(0);
    expect(smtp.to(n.recipient)).toHaveLength(1);
  });

  it("When a worker died mid-send, then its claims are sent again after the lease with the same Message-ID, and its late outcome never overwrites the next claim's", async () => {
    const n = await record();
    const [dead] = await repository.claimDue(10, 1);
    expect(dead).toMatchObject({ id: n.id, resumed: false });
    expect(await repository.claimDue(10, 1)).toEqual([]);
    await sleep(1_100);

    const [next] = await repository.claimDue(10, 60);
    expect(next).toMatchObject({ id: n.id, resumed: true, attempts: 2 });
    expect(next?.claim_id).not.toBe(dead?.claim_id);
    const failure = { error: "late", final: false, retryInMs: 0, giveUpAfterSeconds: 60 };
    expect(await repository.recordFailure(n.id, dead?.claim_id ?? "", failure)).toBeUndefined();
    expect(await repository.recordSent(n.id, dead?.claim_id ?? "")).toBe(false);
    expect(await repository.recordSent(n.id, next?.claim_id ?? "")).toBe(true);
    expect(await row(n.id)).toEqual({ status: "sent", attempts: 2, last_error: null });
  });

  it("When a worker died mid-send, then the next worker delivers its email once the lease ends", async () => {
    const n = await record();
    await repository.claimDue(10, 1);
    const w = worker();
    expect(await w.deliverBatch()).toBe(0);
    await sleep(1_100);
    expect(await w.deliverBatch()).toBe(1);
    expect(await row(n.id)).toEqual({ status: "sent", attempts: 2, last_error: null });
    expect(smtp.to(n.recipient)).toEqual([
      { to: [n.recipient], messageId: `<${n.id}@shop.example>`, accepted: true },
    ]);
  });

  it("When three replicas deliver the same backlog at once, then every email is sent exactly once", async () => {
    const recorded = await Promise.all(Array.from({ length: 60 }, () => record()));
    const replicas = [worker(), worker(), worker()];
    const counts = await Promise.all(
      replicas.map(async (w) => {
        let claimed = 0;
        for (let n = await w.deliverBatch(); n > 0; n = await w.deliverBatch()) claimed += n;
        return claimed;
      }),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    for (const n of recorded) {
      expect(await row(n.id)).toMatchObject({ status: "sent", attempts: 1 });
      expect(smtp.to(n.recipient)).toHaveLength(1);
    }
  });

  it("When the worker stops mid-batch, then the claims it never sent are free at once for another worker, as never attempted", async () => {
    const first = await record();
    const second = await record();
    smtp.replyDelayMs = 500;
    try {
      const stopping = worker({ concurrency: 1 });
      stopping.start();
      await sleep(200);
      await stopping.stop();
    } finally {
      smtp.replyDelayMs = 0;
    }
    expect(await row(first.id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(await repository.claimDue(10, 60)).toEqual([
      expect.objectContaining({ id: second.id, attempts: 1, resumed: false }),
    ]);
    expect(smtp.to(second.recipient)).toEqual([]);
  });

  it("When a resumed claim is given back unsent, then the next claim still knows its email may have been delivered", async () => {
    const n = await record();
    await repository.claimDue(10, 1);
    await sleep(1_100);
    const resumed = await repository.claimDue(10, 60);
    expect(resumed).toEqual([expect.objectContaining({ id: n.id, resumed: true, attempts: 2 })]);
    await repository.releaseClaims(resumed);
    expect(await repository.claimDue(10, 60)).toEqual([
      expect.objectContaining({ id: n.id, resumed: true, attempts: 2 }),
    ]);
  });

  it("When the claim's answer arrives late, then no send starts that the lease left may not cover, and the claim is free again at once", async () => {
    const n = await record();
    const late = new (class extends NotificationRepository {
      override async claimDue(limit: number, leaseSeconds: number) {
        const claimed = await super.claimDue(limit, leaseSeconds);
        // The lease started in PostgreSQL; most of it has passed by the time the worker sees it.
        await sleep(800);
        return claimed;
      }
    })(db);
    const w = worker({ repository: late, leaseSeconds: 1 });
    expect(await w.deliverBatch()).toBe(1);
    expect(smtp.to(n.recipient)).toEqual([]);
    expect(await repository.claimDue(10, 60)).toEqual([
      expect.objectContaining({ id: n.id, attempts: 1, resumed: false }),
    ]);
  });

  it("When workers keep dying while sending one email past the give-up age, then it fails naming why instead of being resent forever", async () => {
    const n = await record();
    await repository.claimDue(10, 1);
    await db.query("UPDATE notifications SET deliver_since = now() - interval '2 seconds' WHERE id = $1", [
      n.id,
    ]);
    await sleep(1_100);
    const w = worker({ giveUpAfterSeconds: 1 });
    expect(await w.deliverBatch()).toBe(0);
    expect(await row(n.id)).toEqual({
      status: "failed",
      attempts: 1,
      last_error: "gave up after 1 s undelivered: the worker stopped while sending it (1 attempts)",
    });
    expect(smtp.to(n.recipient)).toEqual([]);
  });

  it("When sending takes longer than the lease, then the live worker keeps its claims and no other worker sends them", async () => {
    const first = await record();
    const second = await record();
    smtp.replyDelayMs = 1_500;
    try {
      const slow = worker({ leaseSeconds: 1, concurrency: 1 });
      const sending = slow.deliverBatch();
      await sleep(1_200);
      expect(await repository.claimDue(10, 60)).toEqual([]);
      expect(await sending).toBe(2);
    } finally {
      smtp.replyDelayMs = 0;
    }
    expect(await row(first.id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(await row(second.id)).toMatchObject({ status: "sent", attempts: 1 });
    expect(
      smtp.attempts.filter((a) => [first.recipient, second.recipient].includes(a.to[0] ?? "")),
    ).toHaveLength(2);
  });
});
