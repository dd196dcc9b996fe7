import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { Pool } from "pg";
import type { ReceivedMail } from "../../../scripts/stack/mail-catcher";
import { createTestDatabase, PGHOST, PGPORT } from "../support/environment";
import { EffectsProbe, orderSku, userEmail } from "../support/faults/effects";

/**
 * The fault suite's yardstick: each check writes the rows a fault could leave behind and asserts
 * the probe counts them, so a row of the table cannot read "0 lost, 0 doubled" when they are there.
 */
describe("the fault suite's effects probe", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const messages: ReceivedMail[] = [];
  const probe = () => new EffectsProbe(pool, { messages });
  const phase = "probe";
  const later = new Date(Date.now() + 60_000);

  /** A user committed with key `key`, known to order-service, with `notifications` welcome notifications, each emailed once. */
  const user = async (key: string, notifications: number) => {
    const id = randomUUID();
    await pool.query("INSERT INTO users.users (id, email, name, created_at) VALUES ($1, $2, 'P', now())", [
      id,
      userEmail(phase, key),
    ]);
    await pool.query(
      "INSERT INTO orders.known_users (id, email, name, created_at) VALUES ($1, $2, 'P', now())",
      [id, userEmail(phase, key)],
    );
    for (let i = 0; i < notifications; i++) {
      const notificationId = randomUUID();
      await pool.query(
        `INSERT INTO notifications.notifications (id, event_id, event_type, user_id, type, recipient, subject, body, status)
         VALUES ($1, $2, 'user.created', $3, 'welcome', $4, 'Welcome', 'Hello', 'sent')`,
        [notificationId, randomUUID(), id, userEmail(phase, key)],
      );
      messages.push({
        headers: { "x-notification-id": notificationId, "message-id": `<${notificationId}@x>` },
      } as unknown as ReceivedMail);
    }
    return id;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    pool = new Pool({
      host: PGHOST,
      port: PGPORT,
      user: process.env.PGSUPERUSER ?? "postgres",
      password: process.env.PGSUPERPASSWORD ?? "postgres",
      database: testDb.name,
      max: 2,
    });
  }, 60_000);

  beforeEach(async () => {
    messages.length = 0;
    await pool.query("TRUNCATE users.users, orders.orders, orders.known_users CASCADE");
    await pool.query("TRUNCATE notifications.notifications");
  });

  afterAll(async () => {
    await pool?.end();
    await testDb?.drop();
  });

  it("When a user and an order have all their effects once, then nothing is missing or doubled", async () => {
    const userId = await user("k1", 1);
    const orderId = randomUUID();
    await pool.query(
      `INSERT INTO orders.orders (id, user_id, status, items, total_cents, created_at)
       VALUES ($1, $2, 'processed', $3, 950, now())`,
      [orderId, userId, JSON.stringify([{ sku: orderSku(phase, "k2"), quantity: 1, unit_price: 9.5 }])],
    );
    const notificationId = randomUUID();
    await pool.query(
      `INSERT INTO notifications.notifications (id, event_id, event_type, user_id, type, recipient, subject, body, status)
       VALUES ($1, $2, 'order.processed', $3, 'order_confirmation', 'a@x', $4, 'b', 'sent')`,
      [notificationId, randomUUID(), userId, `Order ${orderId} confirmed`],
    );
    messages.push({ headers: { "x-notification-id": notificationId, "message-id": "<o@x>" } } as never);
    expect(await probe().snapshot(phase, later, new Set(["k1", "k2"]))).toEqual({
      committed: 2,
      missing: 0,
      missingByEffect: {},
      missingBefore: 0,
      duplicateOrders: 0,
      duplicateNotifications: 0,
      duplicateEmails: 0,
      resentEmails: 0,
    });
  });

  it("When one user got two welcome notifications, each emailed under its own Message-ID, then one is counted doubled", async () => {
    await user("k1", 2);
    expect(await probe().snapshot(phase, later, new Set(["k1"]))).toMatchObject({
      committed: 1,
      missing: 0,
      duplicateNotifications: 1,
    });
  });

  it("When a write was answered 2xx but never committed, then it is counted lost", async () => {
    await user("k1", 1);
    expect(await probe().snapshot(phase, later, new Set(["k1", "k-answered-only"]))).toMatchObject({
      committed: 1,
      missing: 1,
      missingBefore: 1,
      missingByEffect: { "committed row": 1 },
    });
  });
});
