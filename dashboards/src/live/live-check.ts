import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel } from "kafkajs";
import { Client } from "pg";
import { Prometheus } from "../../../scripts/deps/prometheus";
import { loadSettings } from "../../../scripts/deps/settings";
import { MailCatcher } from "../../../scripts/stack/mail-catcher";
import { adminToken, bearer } from "../../../services/system-tests/support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  KAFKA_BROKERS,
  PGHOST,
  PGPORT,
  type ServiceKey,
  serviceEnv,
} from "../../../services/system-tests/support/environment";
import { freePort, ServiceProcess } from "../../../services/system-tests/support/processes";
import { RECORDING_RULES } from "../alerts";
import { dashboards } from "../grafana/dashboards";
import { METRICS } from "../metrics";
import { REPO_ROOT } from "../paths";
import {
  alertSignals,
  type NamedQuery,
  recordingQueries,
  resolvedDashboardQueries,
  resolveVariables,
} from "../queries";
import { DRIFT_JOB, OBSERVED_SERVICES } from "../registry";
import { renderDriftMetrics, serveMetrics } from "./drift-exporter";

/** The traffic is about metrics, not access: every request holds every scope. */
const ADMIN = bearer(adminToken());

/** What Grafana's `$__rate_interval` becomes: four 5 s scrapes, rounded up to a readable window. */
const RATE_INTERVAL = "1m";

/** The drift report the check serves: the delivery tool's fixture with drift in every severity. */
const DRIFT_SOURCE = {
  plan: path.join(REPO_ROOT, "tools/drift/fixtures/drift.json"),
  env: "dev",
  stack: "dev-data",
};

export interface QueryOutcome extends NamedQuery {
  /** Series returned, and how many of them hold a number (not NaN). */
  readonly series: number;
  readonly finite: number;
  readonly error?: string;
}

export interface LiveCheckReport {
  readonly prometheus: string;
  readonly outcomes: readonly QueryOutcome[];
  readonly failures: readonly QueryOutcome[];
  readonly requestsSent: number;
  readonly seconds: number;
}

export interface LiveCheckOptions {
  /** How long to keep asking for data before a query counts as dead. @default 150 s */
  readonly deadlineMs?: number;
  readonly log?: (line: string) => void;
}

interface ApiVector {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ value?: [number, string] }> | [number, string] };
}

async function query(prometheus: string, expr: string): Promise<Omit<QueryOutcome, keyof NamedQuery>> {
  const res = await fetch(`http://${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as ApiVector;
  if (body.status !== "success" || !body.data)
    return { series: 0, finite: 0, error: body.error ?? `HTTP ${res.status}` };
  const values =
    body.data.resultType === "scalar"
      ? [(body.data.result as [number, string])[1]]
      : (body.data.result as Array<{ value?: [number, string] }>).map((r) => r.value?.[1] ?? "NaN");
  return { series: values.length, finite: values.filter((v) => Number.isFinite(Number(v))).length };
}

/** Label values a Grafana `label_values(<selector>, <label>)` variable offers. */
async function labelValues(prometheus: string, definition: string): Promise<number> {
  const match = definition.match(/^label_values\((.+),\s*(\w+)\)$/);
  if (!match) throw new Error(`unsupported variable query ${definition}`);
  const [, selector, label] = match;
  const url = `http://${prometheus}/api/v1/label/${label}/values?match[]=${encodeURIComponent(selector ?? "")}`;
  const body = (await (await fetch(url)).json()) as { data?: string[] };
  return body.data?.length ?? 0;
}

/** Every query the check demands data for, with where it comes from. */
export function liveQueries(): NamedQuery[] {
  return [
    ...resolvedDashboardQueries(RATE_INTERVAL),
    ...alertSignals({ live: true }),
    ...recordingQueries(),
    // The recorded series themselves: the rule files are loaded and evaluated.
    ...RECORDING_RULES.map((r) => ({ source: `recorded ${r.record}`, expr: r.record })),
    ...registryQueries(),
  ];
}

/** The registry's routes, topics and consumer groups, as the services label them. */
function registryQueries(): NamedQuery[] {
  return OBSERVED_SERVICES.flatMap((s) => [
    {
      source: `registry ${s.name} runs ${REPLICAS} replicas, all scraped`,
      expr: `count by (service) (${METRICS.up}{service="${s.name}"} == 1) == ${REPLICAS}`,
    },
    ...s.routes.map((r) => ({
      source: `registry ${s.name} ${r.method} ${r.endpoint}`,
      expr: `${METRICS.httpRequests}{service="${s.name}",method="${r.method}",endpoint="${r.endpoint}"}`,
    })),
    ...s.publishes.map((topic) => ({
      source: `registry ${s.name} publishes ${topic}`,
      expr: `${METRICS.eventsPublished}{service="${s.name}",topic="${topic}"}`,
    })),
    ...s.consumes.map((c) => ({
      source: `registry ${s.name} consumes ${c.topic} as ${c.group}`,
      expr: `${METRICS.eventsConsumed}{service="${s.name}",topic="${c.topic}",group="${c.group}"}`,
    })),
  ]);
}

/** Variable queries of every dashboard, resolved like the panels. */
function variableQueries(): NamedQuery[] {
  return Object.values(dashboards()).flatMap((d) =>
    (d.templating?.list ?? [])
      .filter((v) => v.type === "query")
      .map((v) => ({
        source: `${d.uid} / variable ${v.name}`,
        expr: resolveVariables(String(v.query ?? ""), d.templating?.list ?? [], RATE_INTERVAL),
      })),
  );
}

/** Processes per service: more than one, so that per-replica and per-group series both show. */
export const REPLICAS = 2;

/** User traffic of the whole flow, spread over the replicas: sign-ups, orders, reads, rejected requests. */
class Traffic {
  sent = 0;
  private running = true;
  private loop: Promise<void> | undefined;
  private readonly urls: Readonly<Record<ServiceKey, string>>;

  constructor(replicas: Readonly<Record<ServiceKey, readonly string[]>>) {
    const next = (key: ServiceKey) => replicas[key][this.sent % replicas[key].length] ?? "";
    this.urls = {
      get user() {
        return next("user");
      },
      get order() {
        return next("order");
      },
      get notification() {
        return next("notification");
      },
    };
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async call(url: string, init?: RequestInit): Promise<Response> {
    this.sent += 1;
    return fetch(url, {
      ...init,
      headers: { ...(init?.headers as Record<string, string> | undefined), authorization: ADMIN },
    });
  }

  private post(url: string, body: unknown): Promise<Response> {
    return this.call(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  private async run(): Promise<void> {
    const pending: string[] = [];
    while (this.running) {
      const email = `live-${randomUUID()}@example.com`;
      const created = await this.post(`${this.urls.user}/users`, { email, name: "Live Check" });
      if (created.status === 201) {
        const id = String(((await created.json()) as { id: string }).id);
        pending.push(id);
        await this.call(`${this.urls.user}/users/${id}`).then((r) => r.arrayBuffer());
        await this.call(`${this.urls.user}/users?email=${encodeURIComponent(email)}`).then((r) =>
          r.arrayBuffer(),
        );
      }
      // Orders for users the order service has learned of (422 until then, which is traffic too).
      for (const userId of pending.splice(0, pending.length - 2)) {
        const order = await this.post(`${this.urls.order}/orders`, {
          user_id: userId,
          items: [{ sku: "LIVE-1", quantity: 1, unit_price: 9.5 }],
        });
        if (order.status === 201) {
          const orderId = String(((await order.json()) as { id: string }).id);
          await this.call(`${this.urls.order}/orders/${orderId}`).then((r) => r.arrayBuffer());
          await this.call(`${this.urls.order}/orders?user_id=${userId}`).then((r) => r.arrayBuffer());
        } else {
          await order.arrayBuffer();
        }
        await this.call(`${this.urls.notification}/notifications?user_id=${userId}`).then((r) =>
          r.arrayBuffer(),
        );
      }
      await this.post(`${this.urls.user}/users`, { email: "not-an-email" }).then((r) => r.arrayBuffer());
      for (const [url, prefix] of [
        [this.urls.user, "/users"],
        [this.urls.order, "/orders"],
        [this.urls.notification, "/notifications"],
      ] as const) {
        await this.call(`${url}${prefix}/audit?limit=5`).then((r) => r.arrayBuffer());
      }
      await sleep(200);
    }
  }
}

/** Name of a user order-service's projection refuses, so its consumer retries and then dead-letters. */
const REFUSED_NAME = "Live Check Refused";

/**
 * Makes order-service's users projection refuse one name, in the check's own database: a downstream
 * failure that is neither a contract violation nor an outage, so the consumer retries with backoff
 * and finally dead-letters the event, as it would on a bug or a constraint in production.
 */
async function refuseOneUserDownstream(database: string): Promise<void> {
  const client = new Client({
    host: PGHOST,
    port: PGPORT,
    database,
    user: process.env.PGSUPERUSER ?? "postgres",
    password: process.env.PGSUPERPASSWORD ?? "postgres",
  });
  await client.connect();
  try {
    await client.query(
      `ALTER TABLE orders.known_users ADD CONSTRAINT live_check_refused CHECK (name <> '${REFUSED_NAME}') NOT VALID`,
    );
  } finally {
    await client.end();
  }
}

/** A message that breaks the event contract: the consumers must dead-letter it. */
async function publishPoisonEvent(topic: string): Promise<void> {
  const kafka = new Kafka({
    clientId: "live-check",
    brokers: KAFKA_BROKERS.split(","),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key: "live-check-poison", value: "{not json" }] });
  } finally {
    await producer.disconnect();
  }
}

/**
 * The live check: its own Prometheus (generated config and rules) scrapes real services started on
 * their own ports, database and Kafka namespace, while the user -> order -> notification flow runs
 * and a poison event is dead-lettered; a fixture drift report is served as the pipeline would.
 * Then every dashboard panel query, every alert's signal (the condition without its threshold) and
 * every recording rule must return at least one numeric sample through the Prometheus HTTP API.
 */
export async function runLiveCheck(options: LiveCheckOptions = {}): Promise<LiveCheckReport> {
  const log = options.log ?? (() => undefined);
  const deadlineMs = options.deadlineMs ?? 150_000;
  const began = Date.now();
  const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-live-check-"));
  const cleanup: Array<() => Promise<unknown>> = [
    async () => fs.rmSync(localDir, { recursive: true, force: true }),
  ];
  let traffic: Traffic | undefined;
  try {
    const [db, ns, smtp] = await Promise.all([
      createTestDatabase(),
      createTestNamespace(),
      (async () => {
        const catcher = new MailCatcher({ smtpPort: 0 });
        await catcher.start();
        return catcher;
      })(),
    ]);
    cleanup.push(
      () => db.drop(),
      () => ns.drop(),
      () => smtp.stop(),
    );
    log(`database ${db.name}, Kafka namespace ${ns.namespace}, SMTP on ${smtp.smtpPort}`);

    const drift = await serveMetrics(await renderDriftMetrics(DRIFT_SOURCE), 0);
    cleanup.push(() => drift.close());

    // Replicas of each service share the database and consumer groups, as in production, so the
    // group-level metrics (lag, outbox backlog) come from several processes at once.
    const keys: readonly ServiceKey[] = (["user", "order", "notification"] as const).flatMap((k) =>
      Array.from({ length: REPLICAS }, () => k),
    );
    const ports = await Promise.all(keys.map(() => freePort()));
    const processes = keys.map(
      (key, i) =>
        new ServiceProcess(
          key,
          ports[i] ?? 0,
          serviceEnv(
            key,
            db.name,
            ns.namespace,
            key === "notification" ? { SMTP_PORT: String(smtp.smtpPort) } : {},
          ),
        ),
    );
    cleanup.push(() => Promise.all(processes.map((p) => p.stop().then(() => p.kill()))));
    await Promise.all(processes.map((p) => p.start(60_000)));
    const urls = {} as Record<ServiceKey, string[]>;
    for (const p of processes) urls[p.service] = [...(urls[p.service] ?? []), p.url];
    log(`services on ${Object.values(urls).flat().join(", ")}`);

    const targets: Record<string, string[]> = { [DRIFT_JOB]: [drift.address] };
    for (const service of OBSERVED_SERVICES) {
      const replicas = processes.filter((p) => `${p.service}-service` === service.name);
      if (replicas.length !== REPLICAS) throw new Error(`${replicas.length} processes for ${service.name}`);
      targets[service.name] = replicas.map((p) => `127.0.0.1:${p.port}`);
    }
    const settings = loadSettings({
      ...process.env,
      BLUEPRINT_LOCAL_DIR: localDir,
      PROMETHEUS_PORT: String(await freePort()),
    });
    // Its alerts (other people's down targets included) are no one's business: not sent.
    const prometheus = new Prometheus(settings, { targets, sendAlerts: false });
    cleanup.push(() => prometheus.down());
    await prometheus.up();
    log(`Prometheus on ${prometheus.address}, scraping ${Object.values(targets).join(", ")}`);

    await refuseOneUserDownstream(db.name);
    const refused = await fetch(`${urls.user[0]}/users`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: ADMIN },
      body: JSON.stringify({ email: `refused-${randomUUID()}@example.com`, name: REFUSED_NAME }),
    });
    if (refused.status !== 201)
      throw new Error(`POST /users for the refused user answered ${refused.status}`);
    await publishPoisonEvent(`${ns.namespace}user.created`);
    traffic = new Traffic(urls);
    traffic.start();

    const queries = liveQueries();
    const variables = variableQueries();
    let outcomes: QueryOutcome[] = [];
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      outcomes = await Promise.all(
        queries.map(async (q) => ({ ...q, ...(await query(prometheus.address, q.expr)) })),
      );
      for (const v of variables) {
        const count = await labelValues(prometheus.address, v.expr);
        outcomes.push({ ...v, series: count, finite: count });
      }
      const failing = outcomes.filter((o) => o.finite === 0);
      log(`${outcomes.length - failing.length}/${outcomes.length} queries return data`);
      if (failing.length === 0 || Date.now() > deadline) break;
      await sleep(5_000);
    }
    await traffic.stop();
    const requestsSent = traffic.sent;
    traffic = undefined;
    return {
      prometheus: prometheus.address,
      outcomes,
      failures: outcomes.filter((o) => o.finite === 0),
      requestsSent,
      seconds: Math.round((Date.now() - began) / 1000),
    };
  } finally {
    await traffic?.stop();
    for (const step of cleanup.reverse())
      await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
}
