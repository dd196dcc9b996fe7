import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Messaging } from "@blueprint/service-kit";
import autocannon from "autocannon";
import { Client } from "pg";
import { ENVIRONMENTS } from "../../environments";
import {
  cpuPressurePercent,
  cpuSeconds,
  parentOf,
  peakRssMiB,
  resetPeakRss,
  treeCpuDelta,
  treeCpuSeconds,
} from "../../scripts/bench/process-sampler";
import { localServicePassword } from "../../scripts/deps/provisioning";
import { downAll, localDependencies, upAll } from "../../scripts/deps/registry";
import type { LocalSettings } from "../../scripts/deps/settings";
import { bearer, tokenFor } from "../../services/system-tests/support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  ENTRIES,
  KAFKA_BROKERS,
  PGHOST,
  PGPORT,
  quietLogger,
  REPO_ROOT,
  run,
  type ServiceKey,
  serviceEnv,
} from "../../services/system-tests/support/environment";
import { freePort, ServiceProcess } from "../../services/system-tests/support/processes";
import { tracingEnv } from "../../services/system-tests/support/zipkin";
import { kneeChart } from "./chart";
import { localNodeArgs } from "./image-command";
import { memoryCgroup } from "./memory-limit";
import { openLoad } from "./open-load";
import {
  bestOf,
  type KneeLimits,
  kneeOf,
  type LoadRun,
  percentile,
  type RateStep,
  spreadPercent,
  stepHolds,
  throughputRatio,
} from "./stats";

/*
 * The services' throughput and end-to-end latency on this machine, against the real PostgreSQL
 * and Kafka (started with the repository's deps scripts unless already up), on databases and a
 * Kafka namespace of their own:
 *   1. POST /users, closed loop at fixed connections: user-service (relay publishing to Kafka)
 *      and a bare node:http reference doing the same single statement, alternated, best of N each,
 *      printed as `ours / reference`, with each process's CPU and peak RSS.
 *   2. The end-to-end knee: arrival-rate steps (open model) of POST /users, each measured from the
 *      request to the welcome notification being recorded; table and SVG chart under docs/bench.
 */
const env = process.env;
const LOAD_SECONDS = Number(env.BENCH_LOAD_SECONDS ?? 10);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 2);
const RATES = (env.BENCH_RATES ?? "100,200,300,400,600,800,1000,1200,1500").split(",").map(Number);
const STEP_SECONDS = Number(env.BENCH_STEP_SECONDS ?? 10);
const STEP_ATTEMPTS = Number(env.BENCH_STEP_ATTEMPTS ?? 2);
const PHASES = new Set((env.BENCH_PHASES ?? "throughput,knee").split(","));
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? "info";
/** BENCH_TRACING=1: the services trace every request to the Zipkin server, as under `stack:up`. */
const TRACING = env.BENCH_TRACING === "1" ? tracingEnv() : {};
/** A directory to write the user-service's V8 CPU profile to (throughput phase). */
const CPU_PROFILE_DIR = env.BENCH_CPU_PROFILE;
const LIMITS: Required<KneeLimits> = { p99Ms: 1000 };
/** Whose sizing the services run with: each gets its memory limit there, as in its container. */
const SIZING_ENVIRONMENT = env.BENCH_ENVIRONMENT ?? "prod";
const SIZING = (() => {
  const found = ENVIRONMENTS.find((e) => e.name === SIZING_ENVIRONMENT);
  if (!found)
    throw new Error(`BENCH_ENVIRONMENT=${SIZING_ENVIRONMENT}: not one of ${ENVIRONMENTS.map((e) => e.name)}`);
  return found;
})();
/** The memory limit the services ran under, or why they ran without one. */
const memoryLimits: { limitMiB?: number; unlimited?: string } = {};
/** How long after a step's last arrival its notifications may still come before they count as lost. */
const SETTLE_MS = 20_000;

/** The benchmarks sign users up as a front end would: users:write only; a run lasts well under its hour. */
const SIGNUP = bearer(tokenFor("bench-signup", ["users:write"]));
const HEADERS = { "content-type": "application/json", authorization: SIGNUP };
const signupBody = (prefix: string) => () =>
  JSON.stringify({ email: `${prefix}-${randomUUID()}@example.com`, name: "Bench" });

interface Measured {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<unknown>;
}

async function startService(
  key: ServiceKey,
  database: string,
  namespace: string,
  logDir: string,
  extra: NodeJS.ProcessEnv = {},
  nodeOptions: readonly string[] = [],
): Promise<Measured & { service: ServiceProcess }> {
  // The image's command line, on the compiled entry point (`npm run build` first): no tsx in the process.
  // Extra options go after the image's, so that they win over its V8 flags.
  const image = localNodeArgs(path.join(REPO_ROOT, "services", ENTRIES[key].name, "Dockerfile"), REPO_ROOT);
  const cgroup = memoryCgroup(key, SIZING.services[ENTRIES[key].name].memoryLimitMiB);
  if ("reason" in cgroup) memoryLimits.unlimited = cgroup.reason;
  else memoryLimits.limitMiB = cgroup.limitMiB;
  const service = new ServiceProcess(
    key,
    await freePort(),
    serviceEnv(key, database, namespace, { LOG_LEVEL, ...TRACING, ...extra }),
    path.join(logDir, `${key}-service.log`),
    [...image.slice(0, -1), ...nodeOptions, ...image.slice(-1)],
    "reason" in cgroup ? undefined : cgroup.launcher,
  );
  const removeCgroup = () => ("reason" in cgroup ? undefined : cgroup.remove());
  try {
    await service.start(60_000);
  } catch (error) {
    await service.stop();
    removeCgroup();
    throw error;
  }
  return {
    service,
    pid: service.pid ?? 0,
    url: service.url,
    stop: async () => {
      await service.stop();
      removeCgroup();
    },
  };
}

/** The bare reference server (reference-server.ts) as its own process, on the user-service's role and tables. */
async function startReference(database: string): Promise<Measured> {
  const port = await freePort();
  const role = ENTRIES.user.database.role;
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "reference-server.ts")],
    {
      env: {
        PATH: env.PATH,
        PGHOST,
        PGPORT: String(PGPORT),
        PGDATABASE: database,
        PGUSER: role,
        PGPASSWORD: localServicePassword(role),
        PORT: String(port),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`reference server exited ${code}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    pid: child.pid ?? 0,
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

async function rows<T>(
  database: string,
  role: ServiceKey,
  sql: string,
  values: unknown[] = [],
  whileConnected: (rows: unknown[]) => unknown[] = (r) => r,
): Promise<T[]> {
  const name = ENTRIES[role].database.role;
  const client = new Client({
    host: PGHOST,
    port: PGPORT,
    database,
    user: name,
    password: localServicePassword(name),
  });
  await client.connect();
  try {
    return whileConnected((await client.query(sql, values)).rows) as T[];
  } finally {
    await client.end();
  }
}

/** The PostgreSQL server's pid: the parent of a backend (the local server runs as another OS user). */
async function postgresServerPid(database: string): Promise<number> {
  // Asked in the query, while the backend still runs: it exits with the connection.
  const [row] = await rows<{ pid: number }>(
    database,
    "user",
    "SELECT pg_backend_pid() AS pid",
    [],
    (r: unknown[]) => r.map((x: unknown) => ({ pid: parentOf((x as { pid: number }).pid) ?? 0 })),
  );
  if (!row?.pid) throw new Error("cannot find the PostgreSQL server process");
  return row.pid;
}

/** CPU of named process trees over an interval, in percent of one core. */
function cpuMeter(trees: Readonly<Record<string, number>>): () => Record<string, number> {
  const began = performance.now();
  const loader = process.cpuUsage();
  const before = Object.fromEntries(Object.entries(trees).map(([name, pid]) => [name, treeCpuSeconds(pid)]));
  return () => {
    const wall = (performance.now() - began) / 1000;
    const used = process.cpuUsage(loader);
    const percents: Record<string, number> = {};
    for (const [name, pid] of Object.entries(trees)) {
      percents[name] = (treeCpuDelta(before[name] ?? new Map(), treeCpuSeconds(pid)) / wall) * 100;
    }
    percents.loader = ((used.user + used.system) / 1e6 / wall) * 100;
    return percents;
  };
}

const countOf = async (database: string, role: ServiceKey, table: string) =>
  Number((await rows<{ n: string }>(database, role, `SELECT count(*) AS n FROM ${table}`))[0]?.n ?? 0);

interface ClosedRun extends LoadRun {
  readonly requests: number;
  readonly failed: number;
  /** CPU the server used during the run, percent of one core. */
  readonly cpuPercent: number;
  /** CPU the load generator (this process) used, percent of one core. */
  readonly loaderCpuPercent: number;
  /** CPU PostgreSQL (all its processes) used, percent of one core. */
  readonly postgresCpuPercent: number;
  /** Share of the last 10 s of the run in which a runnable task waited for a core, percent. */
  readonly cpuPressure: number | undefined;
}

async function closedLoop(
  target: Measured,
  seconds: number,
  prefix: string,
  postgresPid: number,
): Promise<ClosedRun> {
  const cpuBefore = cpuSeconds(target.pid);
  const postgresBefore = treeCpuSeconds(postgresPid);
  const loaderBefore = process.cpuUsage();
  const began = performance.now();
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path: "/users",
        headers: HEADERS,
        setupRequest: (req) => ({ ...req, body: signupBody(prefix)() }),
      },
    ],
  });
  const wall = (performance.now() - began) / 1000;
  const loader = process.cpuUsage(loaderBefore);
  return {
    // Only created users count: a fast 503 is not throughput.
    rps: result["2xx"] / wall,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failed: result.non2xx + result.errors + result.timeouts,
    cpuPercent: ((cpuSeconds(target.pid) - cpuBefore) / wall) * 100,
    cpuPressure: cpuPressurePercent(),
    postgresCpuPercent: (treeCpuDelta(postgresBefore, treeCpuSeconds(postgresPid)) / wall) * 100,
    loaderCpuPercent: ((loader.user + loader.system) / 1e6 / wall) * 100,
  };
}

interface ThroughputResult {
  readonly ours: ClosedRun;
  readonly reference: ClosedRun;
  readonly oursRuns: readonly ClosedRun[];
  readonly referenceRuns: readonly ClosedRun[];
  readonly ratio: number;
  readonly oursRssMiB: number;
  readonly referenceRssMiB: number;
  /** Peak RSS of user-service once started, before any load: what start-up alone costs. */
  readonly oursStartRssMiB: number;
  readonly outboxRowsLeft: number;
}

async function throughput(logDir: string): Promise<ThroughputResult> {
  const [oursDb, referenceDb, ns] = await Promise.all([
    createTestDatabase(),
    createTestDatabase(),
    createTestNamespace(),
  ]);
  const profile = [
    ...(CPU_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(CPU_PROFILE_DIR)}`] : []),
    ...(env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
  ];
  const ours = await startService("user", oursDb.name, ns.namespace, logDir, {}, profile);
  const reference = await startReference(referenceDb.name);
  const oursStartRssMiB = peakRssMiB(ours.pid);
  try {
    const postgres = await postgresServerPid(oursDb.name);
    await closedLoop(reference, WARMUP_SECONDS, "warm", postgres);
    await closedLoop(ours, WARMUP_SECONDS, "warm", postgres);
    const oursRuns: ClosedRun[] = [];
    const referenceRuns: ClosedRun[] = [];
    // Alternated, so that a neighbour's burst lands on both rather than on one.
    for (let round = 1; round <= ROUNDS; round++) {
      referenceRuns.push(await closedLoop(reference, LOAD_SECONDS, `ref${round}`, postgres));
      await sleep(1_000);
      oursRuns.push(await closedLoop(ours, LOAD_SECONDS, `ours${round}`, postgres));
      await sleep(1_000);
    }
    // The relay deletes what it publishes: what is left after a short drain was not published.
    let left = 0;
    for (let i = 0; i < 40; i++) {
      left = await countOf(oursDb.name, "user", "outbox");
      if (left === 0) break;
      await sleep(250);
    }
    const best = bestOf(oursRuns);
    const bestReference = bestOf(referenceRuns);
    return {
      ours: best,
      reference: bestReference,
      oursRuns,
      referenceRuns,
      ratio: throughputRatio(best, bestReference),
      oursRssMiB: peakRssMiB(ours.pid),
      oursStartRssMiB,
      referenceRssMiB: peakRssMiB(reference.pid),
      outboxRowsLeft: left,
    };
  } finally {
    await Promise.all([ours.stop(), reference.stop()]);
    await Promise.all([oursDb.drop(), referenceDb.drop(), ns.drop()]);
  }
}

interface KneeResult {
  readonly steps: readonly (RateStep & {
    httpP99: number;
    cpu: Record<string, number>;
    attempts: number;
    cpuPressure: number | undefined;
    /** Peak RSS of user-service and notification-service during this step (its last attempt). */
    rssMiB: { user: number; notification: number };
  })[];
  readonly knee: KneeResult["steps"][number] | undefined;
  readonly userRssMiB: number;
  readonly notificationRssMiB: number;
}

async function kneeSteps(
  logDir: string,
  smtpPort: number,
  others: Readonly<Record<string, number>>,
): Promise<KneeResult> {
  const [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
  const [user, notification] = await Promise.all([
    startService("user", db.name, ns.namespace, logDir),
    startService("notification", db.name, ns.namespace, logDir, { SMTP_PORT: String(smtpPort) }),
  ]);
  const admin = new Messaging({
    brokers: KAFKA_BROKERS.split(","),
    clientId: "bench",
    logger: quietLogger,
  }).admin();
  const group = `${ns.namespace}${ENTRIES.notification.name}`;
  const topic = `${ns.namespace}user.created`;
  const steps: KneeResult["steps"][number][] = [];
  // Peak RSS over every attempt, failed ones included.
  const peak = { user: 0, notification: 0 };
  try {
    const trees = {
      user: user.pid,
      notification: notification.pid,
      postgres: await postgresServerPid(db.name),
      ...others,
    };
    await sleep(3_000); // the consumer joins its group
    for (const rate of RATES) {
      let step: KneeResult["steps"][number] | undefined;
      // A failed step is run once more: a neighbour's burst should not set the knee (best of two).
      for (let attempt = 1; attempt <= STEP_ATTEMPTS; attempt++) {
        // Each attempt's own peak: a failed attempt's queue is not charged to the one that held.
        if (!resetPeakRss(user.pid) || !resetPeakRss(notification.pid)) {
          throw new Error("cannot reset the services' peak RSS (/proc/<pid>/clear_refs)");
        }
        const cpu = cpuMeter(trees);
        let maxLag = 0;
        let sampling = true;
        const lagSampler = (async () => {
          while (sampling) {
            const lag = await admin.lag(group, [topic]).catch(() => []);
            maxLag = Math.max(
              maxLag,
              lag.reduce((sum, p) => sum + p.lag, 0),
            );
            await sleep(500);
          }
        })();
        const { arrivals, achievedRate } = await openLoad<{ id?: string }>({
          url: `${user.url}/users`,
          rate,
          seconds: STEP_SECONDS,
          headers: HEADERS,
          body: signupBody(`e2e${rate}`),
        });
        const cpuPercents = cpu();
        const cpuPressure = cpuPressurePercent();
        const sentAt = new Map<string, number>();
        for (const a of arrivals) if (a.status === 201 && a.body?.id) sentAt.set(a.body.id, a.sentAt);
        const ids = [...sentAt.keys()];
        let recorded: Array<{ user_id: string; created: number }> = [];
        for (const deadline = Date.now() + SETTLE_MS; Date.now() < deadline; await sleep(250)) {
          recorded = await rows(
            db.name,
            "notification",
            `SELECT user_id, (extract(epoch FROM created_at) * 1000)::float8 AS created
               FROM notifications WHERE type = 'welcome' AND user_id = ANY($1::uuid[])`,
            [ids],
          );
          if (recorded.length >= ids.length) break;
        }
        sampling = false;
        await lagSampler;
        const latencies = recorded
          .map((r) => r.created - (sentAt.get(r.user_id) ?? Number.NaN))
          .sort((a, b) => a - b);
        const http = arrivals.map((a) => a.latencyMs).sort((a, b) => a - b);
        step = {
          rate,
          achieved: achievedRate,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          lost: ids.length - recorded.length,
          failed: arrivals.length - ids.length,
          maxLag,
          httpP99: percentile(http, 99),
          cpu: cpuPercents,
          attempts: attempt,
          cpuPressure,
          rssMiB: { user: peakRssMiB(user.pid), notification: peakRssMiB(notification.pid) },
        };
        console.log(
          `bench:   ${rate} users/s: e2e p50 ${ms(step.p50)} p99 ${ms(step.p99)}, lost ${step.lost}, failed ${step.failed}, max lag ${maxLag}`,
        );
        peak.user = Math.max(peak.user, step.rssMiB.user);
        peak.notification = Math.max(peak.notification, step.rssMiB.notification);
        if (stepHolds(step, LIMITS) || attempt === STEP_ATTEMPTS) break;
        await sleep(5_000);
      }
      if (!step) break;
      steps.push(step);
      // Past the first step that breaks the objective, higher rates only take longer to fail.
      if (!stepHolds(step, LIMITS)) break;
      // The next step starts on an empty system.
      await sleep(2_000);
    }
    return {
      steps,
      knee: kneeOf(steps, LIMITS),
      userRssMiB: peak.user,
      notificationRssMiB: peak.notification,
    };
  } finally {
    await admin.disconnect();
    await Promise.all([user.stop(), notification.stop()]);
    await Promise.all([db.drop(), ns.drop()]);
  }
}

function startCatcher(settings: LocalSettings, port: number, uiPort: number): ChildProcess {
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
      env: { ...env, SMTP_PORT: String(port), MAIL_UI_PORT: String(uiPort) },
      stdio: "ignore",
    },
  );
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : "n/a");
const mib = (v: number) => `${v.toFixed(0)} MiB`;
const pct = (v: number) => `${v.toFixed(0)}%`;

function table(header: readonly string[], body: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function throughputTable(t: ThroughputResult): string {
  const row = (name: string, best: ClosedRun, runs: readonly ClosedRun[], rss: number, left: string) => [
    name,
    `${best.rps.toFixed(0)} req/s`,
    `±${spreadPercent(runs).toFixed(0)}% (${runs.map((r) => r.rps.toFixed(0)).join(", ")})`,
    `${ms(best.p50)} / ${ms(best.p99)}`,
    `${best.requests} / ${best.failed}`,
    pct(best.cpuPercent),
    pct(best.postgresCpuPercent),
    best.cpuPressure === undefined ? "n/a" : pct(best.cpuPressure),
    mib(rss),
    left,
  ];
  return [
    table(
      [
        "server",
        "best rate",
        "spread (runs)",
        "p50 / p99",
        "requests / failed",
        "server CPU",
        "PostgreSQL CPU",
        "CPU pressure",
        "peak RSS",
        "outbox rows left",
      ],
      [
        row(
          "user-service (Express, kit, relay to Kafka)",
          t.ours,
          t.oursRuns,
          t.oursRssMiB,
          String(t.outboxRowsLeft),
        ),
        row(
          "reference (node:http + pg, one statement)",
          t.reference,
          t.referenceRuns,
          t.referenceRssMiB,
          "(no relay)",
        ),
      ],
    ),
    "",
    `**ours / reference = ${t.ratio.toFixed(2)}** (target >= 0.60); user-service p99 ${ms(t.ours.p99)} (target <= 20 ms). ` +
      `Load generator CPU ${pct(t.ours.loaderCpuPercent)} of a core during the best user-service run. ` +
      `user-service peak RSS once started, before load: ${mib(t.oursStartRssMiB)}.`,
  ].join("\n");
}

/** The highest peak RSS of each service over the steps up to `rate`. */
function rssUpTo(k: KneeResult, rate: number): string {
  const held = k.steps.filter((s) => s.rate <= rate);
  const most = (service: "user" | "notification") => Math.max(...held.map((s) => s.rssMiB[service]));
  return `${mib(most("user"))} and ${mib(most("notification"))}`;
}

function kneeTable(k: KneeResult): string {
  return [
    table(
      [
        "arrival rate",
        "achieved",
        "e2e p50",
        "e2e p99",
        "POST p99",
        "lost",
        "failed",
        "max consumer lag",
        "holds",
        "attempts",
        "CPU pressure",
        `CPU % while sending: ${Object.keys(k.steps[0]?.cpu ?? {}).join(" / ")}`,
        "peak RSS in the step: user / notification",
      ],
      k.steps.map((s) => [
        `${s.rate}/s`,
        `${s.achieved.toFixed(0)}/s`,
        ms(s.p50),
        ms(s.p99),
        ms(s.httpP99),
        String(s.lost),
        String(s.failed),
        String(s.maxLag),
        stepHolds(s, LIMITS) ? "yes" : "no",
        String(s.attempts),
        s.cpuPressure === undefined ? "n/a" : pct(s.cpuPressure),
        Object.values(s.cpu)
          .map((v) => v.toFixed(0))
          .join(" / "),
        `${mib(s.rssMiB.user)} / ${mib(s.rssMiB.notification)}`,
      ]),
    ),
    "",
    `**Knee: ${k.knee ? `${k.knee.rate} users/s` : "none (the lowest step already breaks the objective)"}** ` +
      `(highest rate with e2e p99 <= ${LIMITS.p99Ms} ms, nothing lost or refused; target >= 800). ` +
      `Peak RSS over every attempt: user-service ${mib(k.userRssMiB)}, notification-service ${mib(k.notificationRssMiB)}` +
      (k.knee ? `; in the steps up to the knee ${rssUpTo(k, k.knee.rate)} (target <= 200 MB).` : "."),
  ].join("\n");
}

export async function main(settings: LocalSettings): Promise<void> {
  const logDir = path.join(settings.logDir, "bench");
  const outDir = path.resolve(env.BENCH_OUT_DIR ?? path.join(settings.repoRoot, "docs", "bench"));
  fs.mkdirSync(logDir, { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  const loadBefore = os.loadavg()[0] ?? 0;
  console.log("bench: compiling the services (npm run build)...");
  await run(
    process.execPath,
    [path.join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-b", "services/tsconfig.json"],
    env,
  );
  const startedDeps = await upAll(localDependencies(settings), () => undefined);
  const smtpPort = await freePort();
  const catcher = startCatcher(settings, smtpPort, await freePort());
  const sections: string[] = [];
  try {
    if (PHASES.has("throughput")) {
      console.log(
        `bench: POST /users, ${CONNECTIONS} connections, ${ROUNDS} x ${LOAD_SECONDS}s each for user-service and the reference...`,
      );
      const t = await throughput(logDir);
      sections.push(`## POST /users against the bare reference\n\n${throughputTable(t)}`);
      console.log(`\n${throughputTable(t)}\n`);
    }
    if (PHASES.has("knee")) {
      console.log(
        `bench: end to end, arrival-rate steps of ${STEP_SECONDS}s: ${RATES.join(", ")} users/s...`,
      );
      const kafkaPid = Number(fs.readFileSync(path.join(settings.runDir, "kafka.pid"), "utf8").trim());
      const k = await kneeSteps(logDir, smtpPort, { kafka: kafkaPid, mail: catcher.pid ?? 0 });
      const chart = path.join(outDir, "knee.svg");
      fs.writeFileSync(
        chart,
        kneeChart(k.steps, {
          p99LimitMs: LIMITS.p99Ms,
          kneeRate: k.knee?.rate,
          caption: `${os.cpus().length} cores, PostgreSQL and Kafka local, ${STEP_SECONDS}s per step, ${new Date().toISOString().slice(0, 10)}`,
        }),
      );
      sections.push(`## End-to-end knee\n\n${kneeTable(k)}\n\n![knee](knee.svg)`);
      console.log(`\n${kneeTable(k)}\n\nchart: ${chart}`);
    }
    const machine =
      `${os.cpus().length} cores shared by PostgreSQL, Kafka, the services and the load generator; ` +
      `1-minute load average ${loadBefore.toFixed(1)} before, ${(os.loadavg()[0] ?? 0).toFixed(1)} after ` +
      `(above ~1 before means other work was competing); CPU pressure is the share of the last 10 s in which ` +
      `a runnable task waited for a core. LOG_LEVEL=${LOG_LEVEL}. ` +
      (memoryLimits.unlimited === undefined
        ? `Each service ran in a memory cgroup of ${memoryLimits.limitMiB} MiB (${SIZING.name}'s memoryLimitMiB), so V8 sized its heap as in the service's container.`
        : `The services ran without a memory limit (${memoryLimits.unlimited}): V8 sized their heaps for this host, not for their containers.`);
    console.log(`${machine}\nservice logs in ${logDir}`);
    const results = path.join(outDir, "services.md");
    fs.writeFileSync(
      results,
      `# Service benchmark (\`npm run bench:services\`)\n\n${sections.join("\n\n")}\n\n${machine}\n`,
    );
    // Committed beside the docs, so written as the linter formats them (Biome refuses files outside the repository).
    if (!path.relative(REPO_ROOT, results).startsWith("..")) {
      await run(
        process.execPath,
        [path.join(REPO_ROOT, "node_modules/@biomejs/biome/bin/biome"), "format", "--write", results],
        env,
      );
    }
  } finally {
    catcher.kill("SIGTERM");
    if (startedDeps.length > 0) await downAll(startedDeps, () => undefined);
  }
  process.exit(0);
}
