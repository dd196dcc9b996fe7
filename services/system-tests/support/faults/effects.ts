import type { Pool } from "pg";
import type { MailCatcher } from "../../../../scripts/stack/mail-catcher";

/** One committed write and whether each of its downstream effects has appeared. */
interface WriteEffects {
  readonly created_at: Date;
  readonly known_user: boolean;
  readonly notification_id: string | null;
}

/** What one phase's committed writes have produced downstream so far. */
export interface EffectsSnapshot {
  /** Users and orders committed by the phase's load. */
  readonly committed: number;
  /** Committed writes some effect of which is still missing. */
  readonly missing: number;
  /** Writes missing each kind of effect, e.g. `{ known_users: 3, email: 10 }`. */
  readonly missingByEffect: Readonly<Record<string, number>>;
  /** The same, counting only writes committed up to the cut-off given. */
  readonly missingBefore: number;
  /** Orders beyond the first for one Idempotency-Key. */
  readonly duplicateOrders: number;
  /** Emails beyond the first for one notification id with a Message-ID of their own: a receiver cannot tell them apart. */
  readonly duplicateEmails: number;
  /** Emails beyond the first for one notification id with the first one's Message-ID: receivers can drop them. */
  readonly resentEmails: number;
}

/** The phase's marker in user emails (`<key>@<phase>.example.com`) and order SKUs (`<phase>-<key>`). */
export const userEmail = (phase: string, key: string) => `${key}@${phase}.example.com`;
export const orderSku = (phase: string, key: string) => `${phase}-${key}`;

/**
 * Reads, as the superuser, what each write of a phase produced: a user must reach order-service's
 * known_users and get a welcome notification; an order must get an order_confirmation
 * notification; every notification must arrive at the SMTP server, once or, when its sender died
 * mid-send, again under the same Message-ID.
 */
export class EffectsProbe {
  constructor(
    private readonly pool: Pool,
    private readonly mail: MailCatcher,
  ) {}

  async snapshot(phase: string, cutoff: Date): Promise<EffectsSnapshot> {
    const users = await this.pool.query<WriteEffects>(
      `SELECT u.created_at, k.id IS NOT NULL AS known_user, n.id AS notification_id
         FROM users.users u
         LEFT JOIN orders.known_users k ON k.id = u.id
         LEFT JOIN notifications.notifications n ON n.user_id = u.id AND n.type = 'welcome'
        WHERE u.email LIKE $1`,
      [`%@${phase}.example.com`],
    );
    const orders = await this.pool.query<WriteEffects & { sku: string }>(
      `SELECT o.created_at, true AS known_user, n.id AS notification_id, o.items->0->>'sku' AS sku
         FROM orders.orders o
         LEFT JOIN notifications.notifications n
           ON n.type = 'order_confirmation' AND n.subject = 'Order ' || o.id || ' confirmed'
        WHERE o.items->0->>'sku' LIKE $1`,
      [`${phase}-%`],
    );
    const mailsPerNotification = new Map<string, number>();
    const messageIdsPerNotification = new Map<string, Set<string>>();
    for (const m of this.mail.messages) {
      const id = m.headers["x-notification-id"];
      if (!id) continue;
      mailsPerNotification.set(id, (mailsPerNotification.get(id) ?? 0) + 1);
      const messageIds = messageIdsPerNotification.get(id) ?? new Set();
      messageIds.add(m.headers["message-id"] ?? `missing-${messageIds.size}`);
      messageIdsPerNotification.set(id, messageIds);
    }
    const writes = [...users.rows, ...orders.rows];
    const incomplete = writes.filter(
      (w) => !w.known_user || w.notification_id === null || !mailsPerNotification.has(w.notification_id),
    );
    const missingByEffect: Record<string, number> = {};
    const count = (effect: string) => {
      missingByEffect[effect] = (missingByEffect[effect] ?? 0) + 1;
    };
    for (const w of incomplete) {
      if (!w.known_user) count("known_users row");
      if (w.notification_id === null) count("notification row");
      else if (!mailsPerNotification.has(w.notification_id)) count("email");
    }
    const beyondFirst = (count: (id: string) => number) =>
      writes.reduce((sum, w) => sum + Math.max(0, count(w.notification_id ?? "") - 1), 0);
    const emails = beyondFirst((id) => mailsPerNotification.get(id) ?? 0);
    const duplicateEmails = beyondFirst((id) => messageIdsPerNotification.get(id)?.size ?? 0);
    return {
      committed: writes.length,
      missing: incomplete.length,
      missingByEffect,
      missingBefore: incomplete.filter((w) => w.created_at <= cutoff).length,
      duplicateOrders: orders.rows.length - new Set(orders.rows.map((o) => o.sku)).size,
      duplicateEmails,
      resentEmails: emails - duplicateEmails,
    };
  }
}
