import {
  createPool,
  Database,
  loadConfig,
  ServiceMetrics,
  type Statement,
  statementText,
} from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { QueryResult, QueryResultRow } from "pg";
import { createTestDatabase, serviceEnv } from "../../system-tests/support/environment";
import { NotificationRepository } from "../src/data-access/notification-repository";
import { configSchema } from "../src/service";

interface PlanNode {
  "Node Type": string;
  "Actual Rows": number;
  "Actual Loops": number;
  Plans?: PlanNode[];
}

/** Rows each node of the plan produced, summed over the tree. */
function rowsRead(node: PlanNode): number {
  return node["Actual Rows"] * node["Actual Loops"] + (node.Plans ?? []).reduce((n, p) => n + rowsRead(p), 0);
}

/** A Database that remembers the last statement it ran, so the test can ask for its plan. */
class Recording extends Database {
  last: { text: string; values?: unknown[] } | undefined;

  override query<R extends QueryResultRow = QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    this.last = { text: statementText(statement), values };
    return super.query<R>(statement, values);
  }
}

describe("the delivery claim after a long SMTP outage", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Recording;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const config = loadConfig(configSchema, serviceEnv("notification", testDb.name, ""));
    db = new Recording(createPool(config), new ServiceMetrics("notification-service"));
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await testDb?.drop();
  });

  it("When 20,000 emails are due at once, then a claim of 10 reads about 10 rows, not the whole backlog", async () => {
    await db.query(
      `INSERT INTO notifications (id, event_id, event_type, user_id, type, recipient, subject, body, status, attempts, next_attempt_at)
       SELECT gen_random_uuid(), gen_random_uuid(), 'user.created', gen_random_uuid(), 'welcome', 'a@example.com',
              'Welcome', 'Hello', 'retrying', 3, now() - make_interval(secs => g)
         FROM generate_series(1, 20000) g`,
    );
    await db.query("ANALYZE notifications");
    const claimed = await new NotificationRepository(db).claimDue(10, 60);
    expect(claimed).toHaveLength(10);
    const claim = db.last;
    if (!claim) throw new Error("the claim ran no statement");

    const plan = await db
      .transaction(async (tx) => {
        const { rows } = await tx.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${claim.text}`,
          claim.values,
        );
        // The claim it measured is undone; ROLLBACK through a thrown error.
        throw Object.assign(new Error("rollback"), { plan: rows[0]?.["QUERY PLAN"][0].Plan });
      })
      .catch((error: { plan?: PlanNode }) => error.plan);
    if (!plan) throw new Error("no plan");
    expect(rowsRead(plan)).toBeLessThan(200);
  });
});
