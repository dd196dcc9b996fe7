import { type Database, type Queryable, traceHeaders } from "@blueprint/service-kit";
import type { NewNotification, Notification, NotificationType } from "../domain/notifications";

const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;

/** A notification claimed for one delivery attempt. */
export interface ClaimedNotification {
  readonly id: string;
  readonly event_id: string;
  readonly type: NotificationType;
  readonly recipient: string;
  readonly subject: string;
  readonly body: string;
  /** Attempts including this one. */
  readonly attempts: number;
  /** This claim's token: outcomes are recorded only while the row still carries it. */
  readonly claim_id: string;
  /** A previous attempt was abandoned mid-send: the email may already have been delivered once. */
  readonly resumed: boolean;
  /** The trace context of the handling that recorded it (`traceparent`, `tracestate`), if any. */
  readonly trace_context: Readonly<Record<string, string>>;
}

/** How one attempt ended, as the worker records it. */
export interface AttemptFailure {
  readonly error: string;
  /** The server rejected the message for good: fail now instead of retrying. */
  readonly final: boolean;
  readonly retryInMs: number;
  /** Transient failures of a notification older than this fail it for good. */
  readonly giveUpAfterSeconds: number;
}

export class NotificationRepository {
  constructor(private readonly db: Database) {}

  /**
   * Records a notification in the consumer's transaction, with the handling's trace context for its
   * delivery to continue; a second one for the same event is ignored.
   */
  async insert(n: NewNotification, tx: Queryable): Promise<void> {
    await tx.query(
      `INSERT INTO notifications (id, event_id, event_type, user_id, type, recipient, subject, body, status, trace_context)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) ON CONFLICT (event_id) DO NOTHING`,
      [n.id, n.event_id, n.event_type, n.user_id, n.type, n.recipient, n.subject, n.body, traceHeaders()],
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
   * Claims due notifications: each becomes `sending` under a lease and a fresh claim token, and
   * counts an attempt. Several replicas never claim the same row, and only the claimer can record
   * its outcome. A `sending` row whose lease ended belongs to a worker that stopped mid-send: it is
   * claimed again (`resumed`), so the email goes out once more with the same Message-ID rather than
   * never. The lease condition on the other rows keeps those that a replica of an earlier release
   * (which leased without changing the status) is still sending.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedNotification[]> {
    // One ordered scan per partial index, each stopping at `limit`: a single OR over both sorted the
    // whole due backlog on every claim (0.5 s per batch with 500,000 emails due after an outage).
    const { rows } = await this.db.query<ClaimedNotification>(
      `WITH lapsed AS (
              SELECT id FROM notifications WHERE status = 'sending' AND lease_until < now()
               ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED),
            due AS (
              SELECT id FROM notifications
               WHERE status IN ('pending', 'retrying') AND next_attempt_at <= now()
                 AND (lease_until IS NULL OR lease_until < now())
               ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
            claim AS (SELECT id, true AS resumed FROM lapsed UNION ALL SELECT id, false FROM due LIMIT $1)
       UPDATE notifications n
          SET status = 'sending', claim_id = gen_random_uuid(), attempts = n.attempts + 1,
              lease_until = now() + make_interval(secs => $2), updated_at = now()
         FROM claim
        WHERE n.id = claim.id
        RETURNING n.id, n.event_id, n.type, n.recipient, n.subject, n.body, n.attempts, n.claim_id,
                  claim.resumed, n.trace_context`,
      [limit, leaseSeconds],
    );
    return rows;
  }

  /**
   * Fails lapsed claims (their worker died mid-send) of notifications undelivered for longer than
   * the give-up age: an email whose sending keeps killing the worker is not resent forever.
   * Returns the types of the rows failed.
   */
  async failLapsedPastAge(giveUpAfterSeconds: number): Promise<NotificationType[]> {
    const { rows } = await this.db.query<{ type: NotificationType }>(
      `UPDATE notifications
          SET status = 'failed', lease_until = NULL, claim_id = NULL, updated_at = now(),
              last_error = format('gave up after %s s undelivered: the worker stopped while sending it (%s attempts)', $1::int, attempts)
        WHERE status = 'sending' AND lease_until < now()
          AND now() - deliver_since >= make_interval(secs => $1)
        RETURNING type`,
      [giveUpAfterSeconds],
    );
    return rows.map((r) => r.type);
  }

  /**
   * Extends the lease of the caller's claims still `sending`; returns the claim tokens that are
   * still the caller's. A claim whose lease ended meanwhile (the database was away) is extended too
   * while nobody has claimed the row again, which would have replaced its token.
   */
  async renewClaims(claimIds: readonly string[], leaseSeconds: number): Promise<Set<string>> {
    const { rows } = await this.db.query<{ claim_id: string }>(
      `UPDATE notifications SET lease_until = now() + make_interval(secs => $2), updated_at = now()
        WHERE claim_id = ANY($1::uuid[]) AND status = 'sending'
        RETURNING claim_id`,
      [claimIds, leaseSeconds],
    );
    return new Set(rows.map((r) => r.claim_id));
  }

  /**
   * Gives back claims whose email was never handed to SMTP (the worker is stopping, or too little
   * of the lease was left to start): they are due again at once, as they were before the claim, and
   * their attempt is not counted. A resumed claim stays `sending` with its lease ended, so whoever
   * takes it next still knows its earlier attempt may have been delivered.
   */
  async releaseClaims(claims: readonly Pick<ClaimedNotification, "claim_id" | "resumed">[]): Promise<void> {
    if (claims.length === 0) return;
    await this.db.query(
      `UPDATE notifications n
          SET status = CASE WHEN r.resumed THEN 'sending' WHEN n.attempts > 1 THEN 'retrying' ELSE 'pending' END,
              attempts = n.attempts - 1,
              lease_until = CASE WHEN r.resumed THEN now() END,
              claim_id = NULL, updated_at = now()
         FROM unnest($1::uuid[], $2::boolean[]) AS r(claim_id, resumed)
        WHERE n.claim_id = r.claim_id AND n.status = 'sending'`,
      [claims.map((c) => c.claim_id), claims.map((c) => c.resumed)],
    );
  }

  /** Records that the SMTP server accepted the email; false when the claim is no longer the caller's. */
  async recordSent(id: string, claimId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL,
              lease_until = NULL, claim_id = NULL, updated_at = now()
        WHERE id = $1 AND claim_id = $2 AND status = 'sending'`,
      [id, claimId],
    );
    return rowCount === 1;
  }

  /**
   * Records a failed attempt: `failed` when final or when the notification has been undelivered
   * for longer than the give-up age, `retrying` otherwise. Undefined when the claim is no longer
   * the caller's (its lease ended and another worker settled the row).
   */
  async recordFailure(
    id: string,
    claimId: string,
    failure: AttemptFailure,
  ): Promise<"retrying" | "failed" | undefined> {
    const { rows } = await this.db.query<{ status: "retrying" | "failed" }>(
      `WITH attempt AS (
         SELECT $3::boolean AS final,
                now() - deliver_since >= make_interval(secs => $5) AS expired
           FROM notifications WHERE id = $1)
       UPDATE notifications
          SET status = CASE WHEN attempt.final OR attempt.expired THEN 'failed' ELSE 'retrying' END,
              last_error = CASE WHEN attempt.expired AND NOT attempt.final
                                THEN format('gave up after %s s undelivered: %s', $5, $2::text) ELSE $2::text END,
              next_attempt_at = now() + make_interval(secs => $4::float8 / 1000),
              lease_until = NULL, claim_id = NULL, updated_at = now()
         FROM attempt
        WHERE id = $1 AND claim_id = $6 AND status = 'sending'
        RETURNING status`,
      [
        id,
        failure.error.slice(0, 1_000),
        failure.final,
        failure.retryInMs,
        failure.giveUpAfterSeconds,
        claimId,
      ],
    );
    return rows[0]?.status;
  }

  /**
   * Puts failed notifications back to `pending` with a fresh delivery clock, those failed at or
   * after `since` when given. Returns how many.
   */
  async redriveFailed(since: Date | undefined): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE notifications SET status = 'pending', next_attempt_at = now(), deliver_since = now(), updated_at = now()
        WHERE status = 'failed' AND ($1::timestamptz IS NULL OR updated_at >= $1)`,
      [since ?? null],
    );
    return rowCount ?? 0;
  }
}
