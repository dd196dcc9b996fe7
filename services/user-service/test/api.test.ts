import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeEvent, type RunningService, startService } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type request from "supertest";
import { api } from "../../system-tests/support/auth";
import { createTestDatabase, createTestNamespace, serviceEnv } from "../../system-tests/support/environment";
import { TopicRecorder } from "../../system-tests/support/kafka";
import { validateOpenApi } from "../../system-tests/support/openapi";
import { userService } from "../src/service";

const email = () => `u-${randomUUID()}@example.com`;

describe("user-service API against the real PostgreSQL and Kafka", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let svc: RunningService;
  let events: TopicRecorder;

  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    svc = await startService(userService, { env: serviceEnv("user", db.name, ns.namespace) });
    events = new TopicRecorder([`${ns.namespace}user.created`]);
    await events.start();
  }, 60_000);

  afterAll(async () => {
    await events?.stop();
    await svc?.stop();
    await Promise.all([db?.drop(), ns?.drop()]);
  });

  it("When a user is created, then 201 returns it and it can be read by id and by email", async () => {
    const address = email();
    const created = await api(svc.server).post("/users").send({ email: address, name: "Ada" });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: address,
      name: "Ada",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(created.headers["x-request-id"]).toBeDefined();

    const byId = await api(svc.server).get(`/users/${created.body.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(created.body);

    const byEmail = await api(svc.server).get("/users").query({ email: address.toUpperCase() });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body).toEqual({ items: [created.body] });
  });

  it("When a user is created, then one user.created event matching its JSON Schema is published, keyed by the user id", async () => {
    const address = email();
    const created = await api(svc.server)
      .post("/users")
      .set("x-request-id", "req-contract-1")
      .send({ email: address, name: "Grace" });
    const [message] = await events.waitFor(
      `${ns.namespace}user.created`,
      1,
      (m) => m.key === created.body.id,
    );
    const event = decodeEvent("user.created", message?.value ?? null);
    expect(event).toEqual({
      event_id: expect.any(String),
      event_type: "user.created",
      version: 1,
      occurred_at: created.body.created_at,
      user_id: created.body.id,
      email: address,
      name: "Grace",
      created_at: created.body.created_at,
    });
    expect(message?.headers).toMatchObject({
      "content-type": "application/json",
      "event-type": "user.created",
      "event-id": event.event_id,
      "x-request-id": "req-contract-1",
    });
    const backlog = await svc.context.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL",
    );
    expect(backlog.rows[0]?.n).toBe(0);
  });

  it("When the same email is registered twice, in any case, then the second gets 409 naming the field and no second event is written", async () => {
    const address = email();
    expect((await api(svc.server).post("/users").send({ email: address, name: "A" })).status).toBe(201);
    const again = await api(svc.server).post("/users").send({ email: address.toUpperCase(), name: "B" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      status: 409,
      errors: [{ field: "email", message: "already registered" }],
    });
    const topic = `${ns.namespace}user.created`;
    const ofAddress = (m: { value: string | null }) => JSON.parse(m.value ?? "{}").email === address;
    await events.waitFor(topic, 1, ofAddress);
    // The relay deletes what it publishes: the events on the topic are what was written.
    await sleep(500);
    expect(events.on(topic).filter(ofAddress)).toHaveLength(1);
  });

  const valid = () => ({ email: email(), name: "Valid" });
  const post = (body: unknown) =>
    api(svc.server)
      .post("/users")
      .send(body as object);
  const badInput: Array<[string, number, string, string[], () => request.Test]> = [
    [
      "malformed JSON",
      400,
      "malformed_json",
      [],
      () => api(svc.server).post("/users").set("content-type", "application/json").send('{"email": "a@b.c",'),
    ],
    ["wrong types", 400, "invalid_request", ["email", "name"], () => post({ email: 42, name: ["x"] })],
    ["missing fields", 400, "invalid_request", ["email", "name"], () => post({})],
    ["an invalid email", 400, "invalid_request", ["email"], () => post({ email: "not-an-email", name: "x" })],
    [
      "an email the event contract rejects",
      400,
      "invalid_request",
      ["email"],
      () => post({ email: "user@foo-.com", name: "x" }),
    ],
    [
      "a NUL character in the name",
      400,
      "invalid_request",
      ["name"],
      () => post({ ...valid(), name: "A\u0000da" }),
    ],
    ["an unknown field", 400, "invalid_request", ["role"], () => post({ ...valid(), role: "admin" })],
    ["an oversize body", 413, "body_too_large", [], () => post({ ...valid(), name: "x".repeat(200_000) })],
    [
      "a wrong content type",
      415,
      "unsupported_media_type",
      [],
      () => api(svc.server).post("/users").set("content-type", "text/plain").send("email=a@b.c"),
    ],
    ["no body", 400, "invalid_request", ["(body)"], () => api(svc.server).post("/users")],
    ["a malformed id", 400, "invalid_request", ["id"], () => api(svc.server).get("/users/not-a-uuid")],
    ["a missing email query", 400, "invalid_request", ["email"], () => api(svc.server).get("/users")],
    ["an unknown id", 404, "not_found", [], () => api(svc.server).get(`/users/${randomUUID()}`)],
    ["an unknown path", 404, "not_found", [], () => api(svc.server).get("/nope")],
  ];

  it.each(badInput)(
    "When the request has %s, then it gets %i (%s) with field-level errors and no stack trace",
    async (_case, status, code, fields, send) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String) });
      expect(res.body.request_id).toBe(res.headers["x-request-id"]);
      expect((res.body.errors ?? []).map((e: { field: string }) => e.field).sort()).toEqual(
        [...fields].sort(),
      );
      expect(JSON.stringify(res.body)).not.toMatch(/at .+\.(ts|js):\d+/);
    },
  );

  it("When /openapi.json is fetched, then it is a valid OpenAPI 3.1 document whose schemas describe real responses", async () => {
    const doc = (await api(svc.server).get("/openapi.json")).body;
    expect(await validateOpenApi(doc)).toEqual({ valid: true, version: "3.1", errors: null });
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/users", "/users/{id}"]));
    expect(doc.paths["/users"].post.requestBody.content["application/json"].schema).toMatchObject({
      additionalProperties: false,
      required: ["email", "name"],
    });

    const ajv = addFormats(new Ajv2020({ strict: false }));
    const created = await api(svc.server).post("/users").send(valid());
    const schema = doc.paths["/users"].post.responses["201"].content["application/json"].schema;
    expect(ajv.validate(schema, created.body)).toBe(true);
    const conflict = await api(svc.server).post("/users").send({ email: created.body.email, name: "x" });
    expect(ajv.validate({ ...doc.components.schemas.Problem }, conflict.body)).toBe(true);
  });

  it("When requests were served, then /metrics has the kit's metrics labelled by route template", async () => {
    await api(svc.server).get(`/users/${randomUUID()}`);
    const text = (await api(svc.server).get("/metrics")).text;
    expect(text).toMatch(
      /http_requests_total\{method="GET",endpoint="\/users\/:id",status="404",service="user-service"\} \d+/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="GET",endpoint="unmatched",status="404",service="user-service"\}/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.005",service="user-service",method="POST",endpoint="\/users"/,
    );
    expect(text).toMatch(/events_published_total\{topic="user.created",service="user-service"\} \d+/);
    for (const name of [
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "service_errors_total",
      "outbox_backlog",
      "outbox_oldest_age_seconds",
      "db_pool_connections",
      "db_connection_errors_total",
    ]) {
      expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*service="user-service"[^}]*\\})? `, "m"));
    }
  });

  it("When connected as the service role, then it can use only its own schema", async () => {
    const own = await svc.context.db.query<{ schema: string }>("SELECT current_schema() AS schema");
    expect(own.rows[0]?.schema).toBe("users");
    await expect(svc.context.db.query("CREATE TABLE orders.intruder (id int)")).rejects.toThrow(
      /permission denied/,
    );
  });
});
