import {
  type Database,
  named,
  outboxInsert,
  type Queryable,
  type StatementPart,
  type UserCreatedEvent,
} from "@blueprint/service-kit";
import type { User } from "../domain/users";

const COLUMNS =
  "id, email, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS created_at";

function isEmailTaken(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: string; constraint?: string };
  return code === "23505" && constraint === "users_email_key";
}

export class UserRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the user, its event and what `also` adds in one statement (one round trip, one
   * transaction). Returns false when the email is taken; then no row is written.
   */
  async insertWithEvent(
    user: User,
    event: UserCreatedEvent,
    requestId: string,
    q: Queryable,
    also?: (firstParam: number) => StatementPart,
  ): Promise<boolean> {
    const queued = outboxInsert(
      { topic: "user.created", key: user.id, event, headers: { "x-request-id": requestId } },
      5,
    );
    const extra = also?.(5 + queued.values.length);
    try {
      await q.query(
        named(
          "insert_user",
          `WITH created AS (
           INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id
         ), queued AS (${queued.sql})${extra ? `, also AS (${extra.sql})` : ""}
         SELECT id FROM created`,
        ),
        [user.id, user.email, user.name, user.created_at, ...queued.values, ...(extra?.values ?? [])],
      );
      return true;
    } catch (error) {
      if (isEmailTaken(error)) return false;
      throw error;
    }
  }

  async findById(id: string): Promise<User | undefined> {
    const { rows } = await this.db.query<User>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0];
  }

  async findByEmail(email: string): Promise<User[]> {
    const { rows } = await this.db.query<User>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows;
  }
}
