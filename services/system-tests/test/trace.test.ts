import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { MailCatcher } from "../../../scripts/stack/mail-catcher";
import { bearer, tokenFor } from "../support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  type ServiceKey,
  serviceEnv,
} from "../support/environment";
import { TopicRecorder } from "../support/kafka";
import { freePort, ServiceProcess } from "../support/processes";
import {
  findSpan,
  newTraceparent,
  tracesTagged,
  tracingEnv,
  waitForTrace,
  type ZipkinSpan,
} from "../support/zipkin";

/** True when `ancestor` is `span` or one of its parents within `spans`. */
function descends(
  spans: readonly ZipkinSpan[],
  span: ZipkinSpan | undefined,
  ancestor: ZipkinSpan | undefined,
) {
  const byId = new Map(spans.map((s) => [s.id, s]));
  for (let s = span; s; s = s.parentId ? byId.get(s.parentId) : undefined)
    if (s.id === ancestor?.id) return true;
  return false;
}

/**
 * True when each span's parent is in the trace, or is the caller's span: the services export in
 * batches, so the spans between a request and its publish can reach Zipkin after both ends.
 */
function connected(spans: readonly ZipkinSpan[], callerSpanId: string) {
  const ids = new Set(spans.map((s) => s.id));
  return spans.every((s) => s.parentId === callerSpanId || (s.parentId !== undefined && ids.has(s.parentId)));
}

describe("one trace from a request through the outbox, Kafka and the consumers to the SMTP send", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  const smtp = new MailCatcher({ smtpPort: 0 });
  const services = {} as Record<ServiceKey, ServiceProcess>;
  let published: TopicRecorder;

  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace(), smtp.start()]);
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const extra: Record<ServiceKey, NodeJS.ProcessEnv> = {
      // Its request log is read back: the request id leads to the trace.
      user: { LOG_LEVEL: "info" },
      order: {},
      notification: { SMTP_PORT: String(smtp.smtpPort) },
    };
    (["user", "order", "notification"] as const).forEach((key, i) => {
      services[key] = new ServiceProcess(
        key,
        ports[i] ?? 0,
        serviceEnv(key, db.name, ns.namespace, { ...tracingEnv(), ...extra[key] }),
      );
    });
    await Promise.all(Object.values(services).map((s) => s.start(45_000)));
    published = new TopicRecorder([`${ns.namespace}user.created`]);
    await published.start();
  }, 90_000);

  afterAll(async () => {
    await published?.stop();
    await Promise.all(Object.values(services).map((s) => s.stop().then(() => s.kill())));
    await smtp.stop();
    await Promise.all([db?.drop(), ns?.drop()]);
  });

  const post = (
    url: string,
    body: unknown,
    token: string,
    traceparent: string,
    headers: Record<string, string> = {},
  ) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: bearer(token), traceparent, ...headers },
      body: JSON.stringify(body),
    });

  /** True when every span of `trace` is there: asserting on a trace Zipkin holds only part of would flake. */
  const holdsAll = (
    trace: readonly ZipkinSpan[],
    wanted: ReadonlyArray<readonly [string, ZipkinSpan["kind"], string]>,
  ) => wanted.every(([service, kind, name]) => findSpan(trace, service, kind, name) !== undefined);

  it("When a user signs up and orders, then the request log names the trace, and Zipkin holds each request's trace across all three services in order, down to the email sent", async () => {
    const signup = newTraceparent();
    const email = `trace-${randomUUID()}@example.com`;
    const created = await post(
      `${services.user.url}/users`,
      { email, name: "Traced" },
      tokenFor("signup-frontend", ["users:write"]),
      signup.traceparent,
    );
    expect(created.status).toBe(201);
    const requestId = created.headers.get("x-request-id");
    const userId = String(((await created.json()) as { id: string }).id);
    const own = tokenFor(userId);
    // order-service learns of users from user.created: 422 until its projection has the user.
    const order = await eventually("order accepted", async () => {
      const attempt = newTraceparent();
      const res = await post(
        `${services.order.url}/orders`,
        { user_id: userId, items: [{ sku: "TRACE-1", quantity: 1, unit_price: 3 }] },
        own,
        attempt.traceparent,
      );
      return res.status === 422 ? undefined : attempt;
    });
    const topic = (name: string) => `${ns.namespace}${name}`.toLowerCase();

    const signupTrace = await waitForTrace(
      signup.traceId,
      (spans) =>
        holdsAll(spans, [
          ["user-service", "SERVER", "post /users"],
          ["user-service", "PRODUCER", `publish ${topic("user.created")}`],
          ["order-service", "CONSUMER", `process ${topic("user.created")}`],
          ["notification-service", "CONSUMER", `process ${topic("user.created")}`],
          ["notification-service", "CLIENT", "smtp send"],
        ]) && connected(spans, signup.parentId),
    );
    const request = findSpan(signupTrace, "user-service", "SERVER", "post /users");
    const publish = findSpan(signupTrace, "user-service", "PRODUCER", `publish ${topic("user.created")}`);
    const projection = findSpan(signupTrace, "order-service", "CONSUMER", `process ${topic("user.created")}`);
    const welcome = findSpan(
      signupTrace,
      "notification-service",
      "CONSUMER",
      `process ${topic("user.created")}`,
    );
    const send = findSpan(signupTrace, "notification-service", "CLIENT", "smtp send");
    expect(request?.parentId).toBe(signup.parentId);
    // The request id the client was given finds the trace in Zipkin without the logs.
    expect(await tracesTagged("http.response.header.x-request-id", String(requestId))).toEqual([
      signup.traceId,
    ]);
    const requestLog = services.user.output
      .split("\n")
      .flatMap((line) => (line.startsWith("{") ? [JSON.parse(line) as Record<string, unknown>] : []))
      .find((line) => (line.req as { id?: string } | undefined)?.id === requestId);
    expect(requestLog).toMatchObject({ trace_id: signup.traceId, span_id: request?.id });
    expect(descends(signupTrace, publish, request)).toBe(true);
    expect(projection?.parentId).toBe(publish?.id);
    expect(welcome?.parentId).toBe(publish?.id);
    expect(send?.parentId).toBe(welcome?.id);

    const orderTrace = await waitForTrace(
      order.traceId,
      (spans) =>
        holdsAll(spans, [
          ["order-service", "SERVER", "post /orders"],
          ["order-service", "PRODUCER", `publish ${topic("order.processed")}`],
          ["notification-service", "CONSUMER", `process ${topic("order.processed")}`],
          ["notification-service", "CLIENT", "smtp send"],
        ]) && connected(spans, order.parentId),
    );
    const orderRequest = findSpan(orderTrace, "order-service", "SERVER", "post /orders");
    const orderPublish = findSpan(
      orderTrace,
      "order-service",
      "PRODUCER",
      `publish ${topic("order.processed")}`,
    );
    const confirmation = findSpan(
      orderTrace,
      "notification-service",
      "CONSUMER",
      `process ${topic("order.processed")}`,
    );
    expect(descends(orderTrace, orderPublish, orderRequest)).toBe(true);
    expect(confirmation?.parentId).toBe(orderPublish?.id);
    expect(findSpan(orderTrace, "notification-service", "CLIENT", "smtp send")?.parentId).toBe(
      confirmation?.id,
    );
  });

  it("When a request carries an email in its URL and a baggage header, then no span holds the email and no event carries the baggage", async () => {
    const email = `private-${randomUUID()}@example.com`;
    const signup = newTraceparent();
    const created = await post(
      `${services.user.url}/users`,
      { email, name: "Private" },
      tokenFor("signup-frontend", ["users:write"]),
      signup.traceparent,
      { baggage: `user.email=${encodeURIComponent(email)}` },
    );
    expect(created.status).toBe(201);
    const userId = String(((await created.json()) as { id: string }).id);
    const lookup = newTraceparent();
    const found = await fetch(`${services.user.url}/users?email=${encodeURIComponent(email)}`, {
      headers: {
        authorization: bearer(tokenFor("support-desk", ["users:read"])),
        traceparent: lookup.traceparent,
      },
    });
    expect(found.status).toBe(200);

    const [message] = await published.waitFor(`${ns.namespace}user.created`, 1, (m) => m.key === userId);
    expect(Object.keys(message?.headers ?? {})).not.toContain("baggage");
    const lookupTrace = await waitForTrace(lookup.traceId, (spans) =>
      holdsAll(spans, [["user-service", "SERVER", "get /users"]]),
    );
    const signupTrace = await waitForTrace(signup.traceId, (spans) =>
      holdsAll(spans, [["notification-service", "CLIENT", "smtp send"]]),
    );
    const stored = JSON.stringify([...lookupTrace, ...signupTrace]);
    expect(stored).not.toContain(email);
    expect(stored).not.toContain(encodeURIComponent(email));
    expect(findSpan(lookupTrace, "user-service", "SERVER", "get /users")?.tags).toMatchObject({
      "url.query": "email=[redacted]",
    });
  });
});
