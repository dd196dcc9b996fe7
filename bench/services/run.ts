import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { Client } from "pg";
import { localServicePassword } from "../../scripts/deps/provisioning";
import { downAll, localDependencies, upAll } from "../../scripts/deps/registry";
import { loadSettings } from "../../scripts/deps/settings";
import { bearer, tokenFor } from "../../services/system-tests/support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  ENTRIES,
  type ServiceKey,
  serviceEnv,
} from "../../services/system-tests/support/environment";
import { freePort, ServiceProcess } from "../../services/system-tests/support/processes";
import { tracingEnv } from "../../services/system-tests/support/zipkin";

/*
 * `npm run bench:services`: the services' throughput and end-to-end latency on this machine, against
 * the real PostgreSQL and Kafka, on a database and Kafka namespace of its own.
 *   1. POST /users with the outbox relay publishing to Kafka: closed loop, fixed connections.
 *   2. End to end at a fixed arrival rate: POST /users -> user.created -> notification recorded.
 */
const settings = loadSettings();
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 24);
const RATE = Number(process.env.BENCH_E2E_RATE ?? 300);
const E2E_SECONDS = Number(process.env.BENCH_E2E_SECONDS ?? 60);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info";
/** BENCH_TRACING=1: the services trace every request to the Zipkin server, as under `stack:up`. */
const TRACING = process.env.BENCH_TRACING === "1" ? tracingEnv() : {};
const logDir = path.join(settings.logDir, "bench");

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** The benchmarks sign users up as a front end would: users:write only; a run lasts well under its hour. */
const SIGNUP = bearer(tokenFor("bench-signup", ["users:write"]));

async function start(
  key: ServiceKey,
  database: string,
  namespace: string,
  extra: NodeJS.ProcessEnv,
): Promise<ServiceProcess> {
  const svc = new ServiceProcess(
    key,
    await freePort(),
    serviceEnv(key, database, namespace, { LOG_LEVEL, ...TRACING, ...extra }),
    path.join(logDir, `${key}-service.log`),
  );
  await svc.start(60_000);
  return svc;
}

async function stopAll(services: ServiceProcess[]): Promise<void> {
  await Promise.all(services.map((s) => s.stop()));
}

async function scalar(database: string, role: keyof typeof ENTRIES, sql: string, values: unknown[] = []) {
  const entry = ENTRIES[role];
  const client = new Client({
    host: settings.host,
    port: settings.postgresPort,
    database,
    user: entry.database.role,
    password: localServicePassword(entry.database.role),
  });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

interface ThroughputResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  published: number;
  /** Rows in the outbox table after the run: unsent, or sent but not deleted. */
  outboxRowsLeft: number;
}

async function throughput(database: string): Promise<ThroughputResult> {
  const ns = await createTestNamespace();
  const user = await start("user", database, ns.namespace, {});
  try {
    const run = (seconds: number) =>
      autocannon({
        url: user.url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            method: "POST",
            path: "/users",
            headers: { "content-type": "application/json", authorization: SIGNUP },
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ email: `bench-${randomUUID()}@example.com`, name: "Bench" }),
            }),
          },
        ],
      });
    await run(5);
    const users = async () =>
      Number((await scalar(database, "user", "SELECT count(*) AS n FROM users"))[0]?.n ?? 0);
    const before = await users();
    const result = await run(LOAD_SECONDS);
    const written = (await users()) - before;
    // The relay deletes what it publishes; give it a moment to finish the last batch.
    let left = 0;
    for (let i = 0; i < 20; i++) {
      left = Number((await scalar(database, "user", "SELECT count(*) AS n FROM outbox"))[0]?.n ?? 0);
      if (left === 0) break;
      await sleep(250);
    }
    return {
      requests: result.requests.total,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      published: written - left,
      outboxRowsLeft: left,
    };
  } finally {
    await stopAll([user]);
    await ns.drop();
  }
}

interface EndToEndResult {
  sent: number;
  created: number;
  recorded: number;
  lost: number;
  p50: number;
  p99: number;
  max: number;
  sentP50: number;
  sentP99: number;
  httpP99: number;
  achievedRate: number;
}

async function endToEnd(database: string, smtpPort: number): Promise<EndToEndResult> {
  const ns = await createTestNamespace();
  const services = await Promise.all([
    start("user", database, ns.namespace, {}),
    start("order", database, ns.namespace, {}),
    start("notification", database, ns.namespace, { SMTP_PORT: String(smtpPort) }),
  ]);
  const [user] = services;
  try {
    await sleep(3_000); // consumers join their groups
    const startedAt = new Map<string, number>();
    // Open-model arrivals, evenly spaced at the fixed rate (autocannon's rate limit releases each
    // second's quota in a burst); responses do not hold back the next arrival.
    const latencies: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    let failed = 0;
    const total = RATE * E2E_SECONDS;
    const began = performance.now();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * RATE) + 1);
      for (; sent < due; sent++) {
        const sentAt = Date.now();
        const t0 = performance.now();
        const request: Promise<void> = fetch(`${user?.url}/users`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: SIGNUP },
          body: JSON.stringify({ email: `e2e-${randomUUID()}@example.com`, name: "E2E" }),
        })
          .then(async (res) => {
            const body = (await res.json()) as { id?: string };
            latencies.push(performance.now() - t0);
            if (res.status === 201 && body.id) startedAt.set(body.id, sentAt);
            else failed += 1;
          })
          .catch(() => {
            failed += 1;
          })
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await sleep(2);
    }
    await Promise.all(inFlight);
    const achievedRate = sent / ((performance.now() - began) / 1000);
    latencies.sort((a, b) => a - b);
    const httpP99 = percentile(latencies, 99);

    // Wait for every welcome notification to be recorded (and delivered), then measure from the database.
    const ids = [...startedAt.keys()];
    let rows: Array<{ user_id: string; created: string; sent: string | null }> = [];
    for (let waited = 0; waited < 30_000; waited += 500) {
      rows = (await scalar(
        database,
        "notification",
        `SELECT user_id, (extract(epoch FROM created_at) * 1000)::float8 AS created,
                (extract(epoch FROM sent_at) * 1000)::float8 AS sent
           FROM notifications WHERE type = 'welcome' AND user_id = ANY($1::uuid[])`,
        [ids],
      )) as typeof rows;
      if (rows.length >= ids.length && rows.every((r) => r.sent !== null)) break;
      await sleep(500);
    }
    const recorded = rows
      .map((r) => Number(r.created) - (startedAt.get(r.user_id) ?? Number.NaN))
      .sort((a, b) => a - b);
    const delivered = rows
      .filter((r) => r.sent !== null)
      .map((r) => Number(r.sent) - (startedAt.get(r.user_id) ?? Number.NaN))
      .sort((a, b) => a - b);
    return {
      sent,
      created: ids.length,
      recorded: rows.length,
      lost: ids.length - rows.length + failed,
      p50: percentile(recorded, 50),
      p99: percentile(recorded, 99),
      max: recorded[recorded.length - 1] ?? Number.NaN,
      sentP50: percentile(delivered, 50),
      sentP99: percentile(delivered, 99),
      httpP99,
      achievedRate,
    };
  } finally {
    await stopAll(services);
    await ns.drop();
  }
}

function startCatcher(port: number, uiPort: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      "--conditions=development",
      "--import",
      "tsx",
      path.join(settings.repoRoot, "scripts/stack/mail-catcher.ts"),
    ],
    {
      cwd: settings.repoRoot,
      env: { ...process.env, SMTP_PORT: String(port), MAIL_UI_PORT: String(uiPort) },
      stdio: "ignore",
    },
  );
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "n/a");

async function main(): Promise<void> {
  fs.mkdirSync(logDir, { recursive: true });
  const loadBefore = os.loadavg()[0] ?? 0;
  const startedDeps = await upAll(localDependencies(settings), () => undefined);
  const db = await createTestDatabase();
  const smtpPort = await freePort();
  const catcher = startCatcher(smtpPort, await freePort());
  try {
    console.log(
      `bench: POST /users for ${LOAD_SECONDS}s with ${CONNECTIONS} connections (after 5s warm-up)...`,
    );
    const t = await throughput(db.name);
    console.log(`bench: end to end at ${RATE} users/s for ${E2E_SECONDS}s...`);
    const e = await endToEnd(db.name, smtpPort);
    const rows: Array<[string, string, string, string]> = [
      [
        "POST /users throughput",
        `${t.rps.toFixed(0)} req/s`,
        ">= 2800 req/s",
        t.rps >= 2800 ? "met" : "missed",
      ],
      [
        "POST /users p50 / p99",
        `${ms(t.p50)} / ${ms(t.p99)}`,
        "p99 <= 30 ms",
        t.p99 <= 30 ? "met" : "missed",
      ],
      [
        "  requests / non-2xx / errors",
        `${t.requests} / ${t.non2xx} / ${t.errors}`,
        "0 non-2xx",
        t.non2xx + t.errors === 0 ? "met" : "missed",
      ],
      [
        "  events published / outbox rows left",
        `${t.published} / ${t.outboxRowsLeft}`,
        "0 rows left",
        t.outboxRowsLeft === 0 ? "met" : "missed",
      ],
      ["e2e arrival rate achieved", `${e.achievedRate.toFixed(0)} users/s`, `${RATE} users/s`, ""],
      [
        "e2e POST -> welcome recorded p50 / p99",
        `${ms(e.p50)} / ${ms(e.p99)}`,
        "p99 <= 250 ms",
        e.p99 <= 250 ? "met" : "missed",
      ],
      ["  max", ms(e.max), "", ""],
      ["  POST /users p99 at this rate", ms(e.httpP99), "", ""],
      ["e2e POST -> welcome email sent p50 / p99", `${ms(e.sentP50)} / ${ms(e.sentP99)}`, "(info)", ""],
      [
        "users created / welcome recorded / lost",
        `${e.created} / ${e.recorded} / ${e.lost}`,
        "0 lost",
        e.lost === 0 ? "met" : "missed",
      ],
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
    console.log(
      `\n${"measure".padEnd(widths[0] ?? 0)}  ${"result".padEnd(widths[1] ?? 0)}  ${"target".padEnd(widths[2] ?? 0)}  status`,
    );
    for (const r of rows) {
      console.log(
        `${r[0].padEnd(widths[0] ?? 0)}  ${r[1].padEnd(widths[1] ?? 0)}  ${r[2].padEnd(widths[2] ?? 0)}  ${r[3]}`,
      );
    }
    console.log(
      `\n${os.cpus().length} cores shared by PostgreSQL, Kafka, the services and the load generator; ` +
        `1-minute load average ${loadBefore.toFixed(1)} before, ${(os.loadavg()[0] ?? 0).toFixed(1)} after ` +
        `(above ~1 before means other work was competing). LOG_LEVEL=${LOG_LEVEL}; service logs in ${logDir}`,
    );
  } finally {
    catcher.kill("SIGTERM");
    await db.drop();
    if (startedDeps.length > 0) await downAll(startedDeps, () => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
