import type { Pool } from "pg";
import type { MailCatcher } from "../../../../scripts/stack/mail-catcher";

/** One row per committed write and notification recorded for it (none: `notification_id` null). */
interface WriteEffects {
  readonly write_id: string;
  /** The Idempotency-Key the load sent it with. */
  readonly key: string;
  readonly created_at: Date;
  readonly known_user: boolean;
  readonly notification_id: string | null;
}

/** What one phase's committed writes have produced downstream so far. */
export interface EffectsSnapshot {
  /** Users and orders committed by the phase's load. */
  readonly committed: number;
  /** Writes some effect of which is still missing, including writes answered 2xx but not committed. */
  readonly missing: number;
  /** Writes missing each kind of effect, e.g. `{ known_users: 3, email: 10 }`. */
  readonly missingByEffect: Readonly<Record<string, number>>;
  /** The same, counting only writes committed up to the cut-off given. */
  readonly missingBefore: number;
  /** Orders beyond the first for one Idempotency-Key. */
  readonly duplicateOrders: number;
  /**
   * Notifications beyond the first for one user or order: each has its own Message-ID, so a
   * receiver gets the email twice and cannot tell.
   */
  readonly duplicateNotifications: number;
  /** Emails beyond the first for one notification id with a Message-ID of their own: a receiver cannot tell them apart. */
  readonly duplicateEmails: number;
  /** Emails beyond the first for one notification id with the first one's Message-ID: receivers can drop them. */
  readonly resentEmails: number;
}

/** The phase's marker in user emails (`<key>@<phase>.example.com`) and order SKUs (`<phase>-<key>`). */
export const userEmail = (phase: string, key: string) => `${key}@${phase}.example.com`;
export const orderSku = (phase: string, key: string) => `${phase}-${key}`;

/**
 * Reads, as the superuser, what each write of a phase produced: a write answered 2xx must be
 * committed; a user must reach order-service's known_users and get one welcome notification; an
 * order must get one order_confirmation notification; every notification must arrive at the SMTP
 * server, once or, when its sender died mid-send, again under the same Message-ID.
 */
export class EffectsProbe {
  constructor(
    private readonly pool: Pool,
    private readonly mail: Pick<MailCatcher, "messages">,
  ) {}

  /** `accepted`: the keys of the phase's writes answered 2xx so far (each was committed before its answer). */
  async snapshot(phase: string, cutoff: Date, accepted: ReadonlySet<string>): Promise<EffectsSnapshot> {
    // Copied before reading: every key in it was committed before the queries below start.
    const answered = new Set(accepted);
    const users = await this.pool.query<WriteEffects>(
      `SELECT u.id AS write_id, split_part(u.email, '@', 1) AS key, u.created_at,
              k.id IS NOT NULL AS known_user, n.id AS notification_id
         FROM users.users u
         LEFT JOIN orders.known_users k ON k.id = u.id
         LEFT JOIN notifications.notifications n ON n.user_id = u.id AND n.type = 'welcome'
        WHERE u.email LIKE $1`,
      [`%@${phase}.example.com`],
    );
    const orders = await this.pool.query<WriteEffects>(
      `SELECT o.id AS write_id, substr(o.items->0->>'sku', length($2) + 1) AS key, o.created_at,
              true AS known_user, n.id AS notification_id
         FROM orders.orders o
         LEFT JOIN notifications.notifications n
           ON n.type = 'order_confirmation' AND n.subject = 'Order ' || o.id || ' confirmed'
        WHERE o.items->0->>'sku' LIKE $1`,
      [`${phase}-%`, `${phase}-`],
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
    const rows = [...users.rows, ...orders.rows];
    const writes = new Map<string, { row: WriteEffects; notifications: string[] }>();
    for (const row of rows) {
      const write = writes.get(row.write_id) ?? { row, notifications: [] };
      if (row.notification_id !== null) write.notifications.push(row.notification_id);
      writes.set(row.write_id, write);
    }
    const missingByEffect: Record<string, number> = {};
    const count = (effect: string) => {
      missingByEffect[effect] = (missingByEffect[effect] ?? 0) + 1;
    };
    const committedKeys = new Set(rows.map((r) => r.key));
    const uncommitted = [...answered].filter((key) => !committedKeys.has(key)).length;
    for (let i = 0; i < uncommitted; i++) count("committed row");
    let missing = uncommitted;
    let missingBefore = uncommitted;
    for (const { row, notifications } of writes.values()) {
      const lacks = [
        !row.known_user && "known_users row",
        notifications.length === 0 && "notification row",
        notifications.some((id) => !mailsPerNotification.has(id)) && "email",
      ].filter((effect): effect is string => effect !== false);
      for (const effect of lacks) count(effect);
      if (lacks.length > 0) {
        missing += 1;
        if (row.created_at <= cutoff) missingBefore += 1;
      }
    }
    const notificationIds = [...writes.values()].flatMap((w) => w.notifications);
    const beyondFirst = (count: (id: string) => number) =>
      notificationIds.reduce((sum, id) => sum + Math.max(0, count(id) - 1), 0);
    const emails = beyondFirst((id) => mailsPerNotification.get(id) ?? 0);
    const duplicateEmails = beyondFirst((id) => messageIdsPerNotification.get(id)?.size ?? 0);
    const orderKeys = new Set(orders.rows.map((o) => o.key));
    const orderIds = new Set(orders.rows.map((o) => o.write_id));
    return {
      committed: writes.size,
      missing,
      missingByEffect,
      missingBefore,
      duplicateOrders: orderIds.size - orderKeys.size,
      duplicateNotifications: [...writes.values()].reduce(
        (sum, w) => sum + Math.max(0, w.notifications.length - 1),
        0,
      ),
      duplicateEmails,
      resentEmails: emails - duplicateEmails,
    };
  }
}
