import {
  appendToOutbox,
  type Database,
  type OutboxMessage,
  type Queryable,
  type UserCreatedEvent,
  withinTransaction,
} from "@blueprint/service-kit";
import type { Order } from "../domain/orders";

const COLUMNS = `id, user_id, status, items, (total_cents / 100.0)::float8 AS total,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

export class OrderRepository {
  constructor(private readonly db: Database) {}

  /**
   * Writes the order and the event built from the user's email in one transaction, provided the
   * user is known (row-locked so it cannot change meanwhile). Returns false for an unknown user.
   */
  insertProcessed(
    q: Queryable,
    order: Order,
    totalCents: number,
    event: (email: string) => OutboxMessage,
  ): Promise<boolean> {
    return withinTransaction(q, async (tx) => {
      const user = await tx.query<{ email: string }>(
        "SELECT email FROM known_users WHERE id = $1 FOR SHARE",
        [order.user_id],
      );
      const email = user.rows[0]?.email;
      if (email === undefined) return false;
      await tx.query(
        `INSERT INTO orders (id, user_id, status, items, total_cents, created_at, processed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)`,
        [order.id, order.user_id, order.status, JSON.stringify(order.items), totalCents, order.created_at],
      );
      await appendToOutbox(tx, [event(email)]);
      return true;
    });
  }

  async findById(id: string): Promise<Order | undefined> {
    const { rows } = await this.db.query<Order>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
    return rows[0];
  }

  async findByUser(userId: string): Promise<Order[]> {
    const { rows } = await this.db.query<Order>(
      `SELECT ${COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
    return rows;
  }

  /** Inserts or refreshes a known user; runs in the consumer's transaction. */
  async upsertKnownUser(event: UserCreatedEvent, client: Queryable = this.db): Promise<void> {
    await client.query(
      `INSERT INTO known_users (id, email, name, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name`,
      [event.user_id, event.email, event.name, event.created_at],
    );
  }
}
