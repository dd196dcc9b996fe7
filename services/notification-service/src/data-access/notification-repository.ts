import type { Database, Queryable } from "@blueprint/service-kit";
import type {
  NewNotification,
  Notification,
  NotificationStatus,
  NotificationType,
} from "../domain/notifications";

const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;

/** A notification claimed for one delivery attempt. */
export interface DueNotification {
  readonly id: string;
  readonly event_id: string;
  readonly type: NotificationType;
  readonly recipient: string;
  readonly subject: string;
  readonly body: string;
  readonly attempts: number;
}

export class NotificationRepository {
  constructor(private readonly db: Database) {}

  /** Records a notification in the consumer's transaction; a second one for the same event is ignored. */
  async insert(n: NewNotification, tx: Queryable): Promise<void> {
    await tx.query(
      `INSERT INTO notifications (id, event_id, event_type, user_id, type, recipient, subject, body, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') ON CONFLICT (event_id) DO NOTHING`,
      [n.id, n.event_id, n.event_type, n.user_id, n.type, n.recipient, n.subject, n.body],
    );
  }

  async findByUser(userId: string): Promise<Notification[]> {
    const { rows } = await this.db.query<Notification>(
      `SELECT id, event_id, user_id, type, recipient, subject, status, attempts, last_error,
              ${iso("created_at")}, ${iso("sent_at")}
         FROM notifications WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
    return rows;
  }

  /**
   * Claims due notifications with a lease, so that several replicas never send the same one at once
   * and a replica that dies mid-send leaves it to others once the lease ends.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<DueNotification[]> {
    const { rows } = await this.db.query<DueNotification>(
      `UPDATE notifications SET lease_until = now() + make_interval(secs => $2)
        WHERE id IN (SELECT id FROM notifications
                      WHERE status IN ('pending', 'retrying') AND next_attempt_at <= now()
                        AND (lease_until IS NULL OR lease_until < now())
                      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, event_id, type, recipient, subject, body, attempts`,
      [limit, leaseSeconds],
    );
    return rows;
  }

  async markSent(id: string): Promise<void> {
    await this.db.query(
      `UPDATE notifications SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL,
              lease_until = NULL, updated_at = now() WHERE id = $1`,
      [id],
    );
  }

  /** Records a failed attempt; returns the new status (retrying, or failed after the last attempt). */
  async markFailed(
    id: string,
    error: string,
    maxAttempts: number,
    retryInMs: number,
  ): Promise<NotificationStatus> {
    const { rows } = await this.db.query<{ status: NotificationStatus }>(
      `UPDATE notifications
          SET attempts = attempts + 1,
              status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'retrying' END,
              next_attempt_at = now() + make_interval(secs => $4::float8 / 1000),
              last_error = $2, lease_until = NULL, updated_at = now()
        WHERE id = $1 RETURNING status`,
      [id, error.slice(0, 1_000), maxAttempts, retryInMs],
    );
    return rows[0]?.status ?? "failed";
  }
}
