import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { context, propagation, type SpanContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import pino from "pino";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  KAFKA_BROKERS,
  quietLogger,
  serviceEnv,
} from "../../system-tests/support/environment";
import { publishRaw, TopicRecorder } from "../../system-tests/support/kafka";
import {
  appendToOutbox,
  continueSpan,
  createPool,
  Database,
  loadConfig,
  Messaging,
  OutboxRelay,
  ServiceMetrics,
  serviceEntry,
  traceFields,
} from "../src";
import { serviceConfigSchema } from "../src/service";
import { userConsumer, userCreated } from "./support/user-consumer";

/** A W3C traceparent for a sampled span. */
const traceparent = ({ traceId, spanId }: SpanContext) => `00-${traceId}-${spanId}-01`;

describe("trace context from a request through the outbox and Kafka to the consumer", () => {
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({ spanProcessors: [new SimpleSpanProcessor({ exporter })], instrumentations: [] });
  let dbInfo: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let db: Database;
  let relay: OutboxRelay;
  let consumer: ReturnType<typeof userConsumer>;
  let published: TopicRecorder;
  let deadLetters: TopicRecorder;
  /** The span active in the handler, per user id. */
  const handledIn = new Map<string, SpanContext | undefined>();
  /** The consumer's log lines, with the active trace on each as the services' logger adds it. */
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    sdk.start();
    [dbInfo, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    const entry = serviceEntry("user-service");
    const config = loadConfig(serviceConfigSchema(entry), serviceEnv("user", dbInfo.name, ns.namespace));
    const metrics = new ServiceMetrics("user-service");
    db = new Database(createPool(config), metrics);
    relay = new OutboxRelay({
      db,
      producer: new Messaging({
        brokers: KAFKA_BROKERS.split(","),
        clientId: "trace-test",
        logger: quietLogger,
      }).producer(),
      metrics,
      logger: quietLogger,
      topics: entry.produces,
      namespace: ns.namespace,
      batchSize: 25,
      pollIntervalMs: 50,
      lingerMs: 0,
      retentionMinutes: 60,
    });
    consumer = userConsumer({
      database: dbInfo.name,
      namespace: ns.namespace,
      brokers: KAFKA_BROKERS,
      maxAttempts: 1,
      logger: pino(
        { level: "warn", mixin: traceFields },
        { write: (line: string) => logs.push(JSON.parse(line)) },
      ),
      handler: {
        async handle(event) {
          if (event.name === "Poison") throw new Error("the handler cannot take this event");
          handledIn.set(event.user_id, trace.getActiveSpan()?.spanContext());
        },
      },
    });
    published = new TopicRecorder([`${ns.namespace}user.created`]);
    deadLetters = new TopicRecorder([`${ns.namespace}user.created.dlt`]);
    await Promise.all([consumer.consumer.start(), published.start(), deadLetters.start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([relay?.stop(), consumer?.stop(), published?.stop(), deadLetters?.stop()]);
    await db?.end();
    await Promise.all([dbInfo?.drop(), ns?.drop(), sdk.shutdown()]);
  });

  it("When a request writes an event, then the outbox row and the Kafka message carry its trace, and the handling is a child of the publish span", async () => {
    const event = userCreated("Traced");
    const request = trace.getTracer("test").startSpan("POST /users", { kind: SpanKind.SERVER });
    // What a client's `baggage` header would put in the request's context.
    const baggage = propagation.createBaggage({ "user.email": { value: "alice@example.com" } });
    await context.with(propagation.setBaggage(trace.setSpan(context.active(), request), baggage), () =>
      db.transaction((tx) => appendToOutbox(tx, [{ topic: "user.created", key: event.user_id, event }])),
    );
    request.end();
    const { traceId } = request.spanContext();

    const { rows } = await db.query<{ headers: Record<string, string> }>(
      "SELECT headers FROM outbox WHERE event_id = $1",
      [event.event_id],
    );
    expect(rows[0]?.headers.traceparent).toBe(traceparent(request.spanContext()));
    expect(rows[0]?.headers).not.toHaveProperty("baggage");

    await relay.start();
    const handled = await eventually("the event handled", async () => handledIn.get(event.user_id));

    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const publish = spans.find((s) => s.kind === SpanKind.PRODUCER);
    const handling = spans.find((s) => s.kind === SpanKind.CONSUMER);
    expect(publish?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(publish?.name).toBe(`publish ${ns.namespace}user.created`);
    const [message] = await published.waitFor(
      `${ns.namespace}user.created`,
      1,
      (m) => m.key === event.user_id,
    );
    expect(message?.headers.traceparent).toBe(traceparent(publish?.spanContext() as SpanContext));
    expect(message?.headers).not.toHaveProperty("baggage");
    expect(handling?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    expect(handling?.links.map((l) => l.context.spanId)).toEqual([publish?.spanContext().spanId]);
    expect(handled.spanId).toBe(handling?.spanContext().spanId);
  });

  it("When a Kafka message carries a malformed traceparent, then it is handled in a new trace, not dead-lettered", async () => {
    const event = userCreated("Badly traced");
    await publishRaw(`${ns.namespace}user.created`, [
      { key: event.user_id, value: JSON.stringify(event), headers: { traceparent: "00-not-a-trace-id-01" } },
    ]);

    const handled = await eventually("the event handled", async () => handledIn.get(event.user_id));

    const handling = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === handled.spanId);
    expect(handling?.kind).toBe(SpanKind.CONSUMER);
    expect(handling?.parentSpanContext).toBeUndefined();
    expect(handling?.links).toEqual([]);
    expect(deadLetters.on(`${ns.namespace}user.created.dlt`).filter((m) => m.key === event.user_id)).toEqual(
      [],
    );
  });

  it("When an event is dead-lettered, then its log line carries the event's trace id, and the trace holds the dead-letter publish with its dead_lettered event", async () => {
    const event = userCreated("Poison");
    const producer = trace.getTracer("test").startSpan("publish user.created", { kind: SpanKind.PRODUCER });
    await publishRaw(`${ns.namespace}user.created`, [
      {
        key: event.user_id,
        value: JSON.stringify(event),
        headers: { traceparent: traceparent(producer.spanContext()) },
      },
    ]);
    producer.end();
    const { traceId } = producer.spanContext();

    await deadLetters.waitFor(`${ns.namespace}user.created.dlt`, 1, (m) => m.key === event.user_id);
    const line = await eventually("the dead-letter log line", async () =>
      logs.find((l) => l.msg === "event dead-lettered" && l.key === event.user_id),
    );

    expect(line.trace_id).toBe(traceId);
    const publish = exporter
      .getFinishedSpans()
      .find((s) => s.spanContext().spanId === line.span_id && s.spanContext().traceId === traceId);
    expect(publish?.kind).toBe(SpanKind.PRODUCER);
    expect(publish?.name).toBe(`publish ${ns.namespace}user.created.dlt`);
    expect(publish?.events.map((e) => e.name)).toEqual(["dead_lettered"]);
  });

  it("When an SMTP send is refused with the recipient's address in the reply, then its span records the failure's kind and code, not the address", async () => {
    const refusal = Object.assign(
      new Error(
        "Can't send mail - all recipients were rejected: 550 5.1.1 <alice@example.com>: Recipient address rejected",
      ),
      {
        code: "EENVELOPE",
        responseCode: 550,
      },
    );
    const sending = continueSpan("smtp send", SpanKind.CLIENT, {}, { "notification.id": "n-1" }, async () => {
      throw refusal;
    });
    await expect(sending).rejects.toBe(refusal);

    const span = exporter.getFinishedSpans().find((s) => s.attributes["notification.id"] === "n-1");
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes).toMatchObject({
      "error.type": "Error",
      "error.code": "EENVELOPE",
      "smtp.response.code": 550,
    });
    expect(JSON.stringify([span?.attributes, span?.events, span?.status])).not.toContain("alice@example.com");
  });
});
