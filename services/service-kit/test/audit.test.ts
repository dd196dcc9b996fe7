import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client } from "pg";
import { localServicePassword } from "../../../scripts/deps/provisioning";
import { orderService } from "../../order-service/src/service";
import { api, tokenFor } from "../../system-tests/support/auth";
import {
  createTestDatabase,
  ENTRIES,
  PGHOST,
  PGPORT,
  type ServiceKey,
  serviceEnv,
} from "../../system-tests/support/environment";
import { userService } from "../../user-service/src/service";
import { type RunningService, startService } from "../src";

/** A connection to the test database as `role` (a service's own) or as the superuser. */
async function connect(database: string, as: ServiceKey | "superuser"): Promise<Client> {
  const client =
    as === "superuser"
      ? new Client({
          host: PGHOST,
          port: PGPORT,
          database,
          user: process.env.PGSUPERUSER ?? "postgres",
          password: process.env.PGSUPERPASSWORD ?? "postgres",
        })
      : new Client({
          host: PGHOST,
          port: PGPORT,
          database,
          user: ENTRIES[as].database.role,
          password: localServicePassword(ENTRIES[as].database.role),
        });
  await client.connect();
  return client;
}

interface AuditRow {
  actor: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: string;
  status: number;
  request_id: string;
}

describe("The audit log of writes (user-service and order-service, real PostgreSQL)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let users: RunningService;
  let orders: RunningService;
  let asUserService: Client;

  const rowsFor = async (requestId: string): Promise<AuditRow[]> =>
    (
      await asUserService.query<AuditRow>(
        "SELECT actor, action, resource_type, resource_id, outcome, status, request_id FROM audit_log WHERE request_id = $1",
        [requestId],
      )
    ).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    users = await startService(userService, { env: serviceEnv("user", db.name, "") });
    orders = await startService(orderService, { env: serviceEnv("order", db.name, "") });
    asUserService = await connect(db.name, "user");
  }, 60_000);

  afterAll(async () => {
    await asUserService?.end();
    await users?.stop();
    await orders?.stop();
    await db?.drop();
  }, 30_000);

  const signup = () => api(users.server, tokenFor("signup", ["users:write"]));

  it("When a user is created, then one succeeded row names the caller, the action, the new user and the request id", async () => {
    const requestId = `audit-${randomUUID()}`;
    const res = await signup()
      .post("/users")
      .set("x-request-id", requestId)
      .send({ email: `audit-${randomUUID()}@example.com`, name: "Audited" });
    expect(res.status).toBe(201);
    expect(await rowsFor(requestId)).toEqual([
      {
        actor: "signup",
        action: "createUser",
        resource_type: "user",
        resource_id: res.body.id,
        outcome: "succeeded",
        status: 201,
        request_id: requestId,
      },
    ]);
  });

  it("When a write fails after its audit row was written, then both roll back and a failed row is recorded on its own", async () => {
    const superuser = await connect(db.name, "superuser");
    // The key's response is stored after the change and its audit row, in the same transaction.
    await superuser.query(`
      CREATE FUNCTION users.fail_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END; $$;
      CREATE TRIGGER fail_key_update BEFORE UPDATE ON users.idempotency_keys
        FOR EACH ROW EXECUTE FUNCTION users.fail_key_update();`);
    const requestId = `audit-${randomUUID()}`;
    const email = `rollback-${randomUUID()}@example.com`;
    try {
      const res = await signup()
        .post("/users")
        .set("x-request-id", requestId)
        .set("idempotency-key", randomUUID())
        .send({ email, name: "Rolled back" });
      expect(res.status).toBe(500);
    } finally {
      await superuser.query(
        "DROP TRIGGER fail_key_update ON users.idempotency_keys; DROP FUNCTION users.fail_key_update();",
      );
      await superuser.end();
    }
    const created = await asUserService.query("SELECT 1 FROM users WHERE email = $1", [email]);
    expect(created.rowCount).toBe(0);
    expect(await rowsFor(requestId)).toEqual([
      expect.objectContaining({ outcome: "failed", status: 500, resource_id: null, actor: "signup" }),
    ]);
  });

  it("When a user is created without an Idempotency-Key and its audit row cannot be written, then neither the user nor its event is written", async () => {
    const superuser = await connect(db.name, "superuser");
    // POST /users writes the user, its event and its audit row in one statement.
    await superuser.query(`
      CREATE FUNCTION users.fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.outcome = 'succeeded' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END; $$;
      CREATE TRIGGER fail_audit BEFORE INSERT ON users.audit_log
        FOR EACH ROW EXECUTE FUNCTION users.fail_audit();`);
    const requestId = `audit-${randomUUID()}`;
    const email = `atomic-${randomUUID()}@example.com`;
    try {
      const res = await signup()
        .post("/users")
        .set("x-request-id", requestId)
        .send({ email, name: "Not written" });
      expect(res.status).toBe(500);
    } finally {
      await superuser.query("DROP TRIGGER fail_audit ON users.audit_log; DROP FUNCTION users.fail_audit();");
      await superuser.end();
    }
    const created = await asUserService.query("SELECT 1 FROM users WHERE email = $1", [email]);
    expect(created.rowCount).toBe(0);
    const queued = await asUserService.query("SELECT 1 FROM outbox WHERE payload LIKE $1", [`%${email}%`]);
    expect(queued.rowCount).toBe(0);
    expect(await rowsFor(requestId)).toEqual([
      expect.objectContaining({ outcome: "failed", status: 500, resource_id: null, actor: "signup" }),
    ]);
  });

  it("When writes are refused (conflict, unknown user, another user's order), then each is recorded as rejected or denied, with no succeeded row", async () => {
    const email = `dup-${randomUUID()}@example.com`;
    expect((await signup().post("/users").send({ email, name: "First" })).status).toBe(201);
    const conflictId = `audit-${randomUUID()}`;
    const conflict = await signup()
      .post("/users")
      .set("x-request-id", conflictId)
      .send({ email, name: "Again" });
    expect(conflict.status).toBe(409);
    expect(await rowsFor(conflictId)).toEqual([
      expect.objectContaining({ action: "createUser", outcome: "rejected", status: 409, resource_id: null }),
    ]);

    const asOrders = await connect(db.name, "order");
    try {
      const owner = randomUUID();
      const unknownId = `audit-${randomUUID()}`;
      const unknown = await api(orders.server, tokenFor(owner))
        .post("/orders")
        .set("x-request-id", unknownId)
        .send({ user_id: owner, items: [{ sku: "A-1", quantity: 1, unit_price: 1 }] });
      expect(unknown.status).toBe(422);
      const deniedId = `audit-${randomUUID()}`;
      const denied = await api(orders.server, tokenFor(owner))
        .post("/orders")
        .set("x-request-id", deniedId)
        .send({ user_id: randomUUID(), items: [{ sku: "A-1", quantity: 1, unit_price: 1 }] });
      expect(denied.status).toBe(403);
      const { rows } = await asOrders.query<AuditRow>(
        "SELECT request_id, actor, action, outcome, status FROM audit_log WHERE request_id = ANY($1) ORDER BY id",
        [[unknownId, deniedId]],
      );
      expect(rows).toEqual([
        { request_id: unknownId, actor: owner, action: "placeOrder", outcome: "rejected", status: 422 },
        { request_id: deniedId, actor: owner, action: "placeOrder", outcome: "denied", status: 403 },
      ]);
    } finally {
      await asOrders.end();
    }
  });

  it("When the service's own role tries to update, delete or truncate audit rows, then PostgreSQL refuses each", async () => {
    for (const statement of [
      "UPDATE audit_log SET outcome = 'succeeded'",
      "DELETE FROM audit_log",
      "TRUNCATE audit_log",
    ]) {
      await expect(asUserService.query(statement)).rejects.toMatchObject({ code: "42501" });
    }
    const inserted = await asUserService.query(
      "INSERT INTO audit_log (actor, action, resource_type, outcome, status, request_id) VALUES ('t', 't', 't', 'rejected', 400, 't')",
    );
    expect(inserted.rowCount).toBe(1);
  });

  it("When the audit log is read by actor in pages, then every row comes once, oldest first, and only with audit:read", async () => {
    const actor = `pager-${randomUUID()}`;
    const writer = api(users.server, tokenFor(actor, ["users:write"]));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await writer.post("/users").send({ email: `page-${randomUUID()}@example.com`, name: "P" })).body.id,
      );
    }
    const auditor = api(users.server, tokenFor("auditor", ["audit:read"]));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await auditor.get(
        `/users/audit?actor=${actor}&limit=2${cursor === null ? "" : `&cursor=${cursor}`}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((row: AuditRow) => row.resource_id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(ids);
    const byResource = await auditor.get(`/users/audit?resource_id=${ids[1]}`);
    expect(byResource.body.items).toHaveLength(1);
    expect((await auditor.get("/users/audit?cursor=bm90LWEtY3Vyc29y")).status).toBe(400);
    const pastBigint = Buffer.from("audit:9223372036854775808").toString("base64url");
    expect((await auditor.get(`/users/audit?cursor=${pastBigint}`)).status).toBe(400);
    expect(
      (await api(users.server, tokenFor(actor, ["users:write", "users:read"])).get("/users/audit")).status,
    ).toBe(403);
  });
});
