import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { serviceEntries, topicEntries } from "@blueprint/service-kit/catalog";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../services/system-tests/support/processes";
import type { Dependency } from "./dependency";
import { withKafkaAdmin } from "./kafka-admin";
import { Postgres } from "./postgres";
import { isRoot } from "./prerequisites";
import { waitUntil } from "./processes";
import { downAll, localDependencies, upAll } from "./registry";
import { type LocalSettings, loadSettings } from "./settings";

const quiet = () => undefined;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function superuserQuery(settings: LocalSettings, database: string, sql: string) {
  const client = new Client({
    host: settings.postgres.host,
    port: settings.postgres.port,
    user: settings.postgres.superuser,
    password: settings.postgres.superuserPassword,
    database,
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

// Starts its own dependencies, which external mode promises never to do.
describe.skipIf(process.env.BLUEPRINT_DEPS === "external")("local dependency lifecycle", () => {
  // An isolated set on free ports, so this test never touches the instances the test command
  // runs. Its folder sits in a private (mode 700) parent like a clone under /root, which the
  // postgres OS user (PostgreSQL's user when we are root) cannot enter.
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-deps-"));
  const localDir = path.join(parent, "checkout", ".local");
  let settings: LocalSettings;
  let deps: Dependency[];
  let ports: number[];
  let pids: Array<number | undefined>;

  beforeAll(async () => {
    ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const [pg, kafka, controller, alertmanager, prometheus, zipkin] = ports.map(String);
    // Without the external-mode variables `npm test` passes its suites: local mode ignores them.
    const { KAFKA_BROKERS, PROMETHEUS_URL, ZIPKIN_URL, PGSUPERUSER, PGSUPERPASSWORD, ...env } = process.env;
    settings = loadSettings({
      ...env,
      BLUEPRINT_DEPS: "local",
      BLUEPRINT_LOCAL_DIR: localDir,
      BLUEPRINT_CACHE_DIR: loadSettings().cacheDir,
      PGPORT: pg,
      KAFKA_PORT: kafka,
      KAFKA_CONTROLLER_PORT: controller,
      ALERTMANAGER_PORT: alertmanager,
      PROMETHEUS_PORT: prometheus,
      ZIPKIN_PORT: zipkin,
    });
    deps = localDependencies(settings);
  });

  afterAll(async () => {
    await downAll(deps, quiet);
    fs.rmSync(parent, { recursive: true, force: true });
    fs.rmSync(new Postgres(settings).home, { recursive: true, force: true });
  }, 60_000);

  it("When deps are brought up in a folder the postgres OS user cannot enter, then all start (as root, PostgreSQL's folder lives outside the checkout) and a second up reuses them", async () => {
    expect(fs.statSync(parent).mode & 0o777).toBe(0o700);
    const first = await upAll(deps, quiet);
    expect(first.map((d) => d.name)).toEqual(["postgres", "kafka", "alertmanager", "prometheus", "zipkin"]);
    pids = deps.map((d) => d.runningPid());
    expect(pids.every((p) => p !== undefined)).toBe(true);
    for (const port of ports) expect(await portOpen(port)).toBe(true);
    expect(new Postgres(settings).home.startsWith(parent)).toBe(!isRoot());

    const second = await upAll(deps, quiet);
    expect(second).toEqual([]);
    expect(deps.map((d) => d.runningPid())).toEqual(pids);
  }, 180_000);

  it.each(["postgres", "kafka", "alertmanager", "prometheus", "zipkin"])(
    "When %s crashed (SIGKILL) a moment ago, then the next up starts it again on the first try",
    async (name) => {
      const dep = deps.find((d) => d.name === name) as Dependency;
      const crashed = dep.runningPid() as number;
      process.kill(crashed, "SIGKILL");

      expect(await upAll(deps, quiet)).toEqual([dep]);
      const restarted = dep.runningPid();
      expect(restarted).not.toBe(crashed);
      expect(restarted).toBeDefined();
      pids = deps.map((d) => d.runningPid());
    },
    120_000,
  );

  it("When external mode points at running dependencies whose database and a topic are gone, then up provisions them again and starts and stops nothing", async () => {
    const topic = topicEntries()[0]?.name ?? "";
    await superuserQuery(settings, "postgres", "DROP DATABASE blueprint WITH (FORCE)");
    await withKafkaAdmin(settings.kafkaBrokers, (admin) => admin.deleteTopics({ topics: [topic] }));
    await waitUntil(
      "topic deletion",
      () =>
        withKafkaAdmin(settings.kafkaBrokers, async (admin) => !(await admin.listTopics()).includes(topic)),
      { timeoutMs: 30_000 },
    );
    const external = localDependencies(
      loadSettings({
        BLUEPRINT_DEPS: "external",
        BLUEPRINT_LOCAL_DIR: path.join(parent, "external"),
        PGHOST: "127.0.0.1",
        PGPORT: String(settings.postgres.port),
        KAFKA_BROKERS: settings.kafkaBrokers.join(","),
        PROMETHEUS_URL: settings.prometheusUrl,
        ZIPKIN_URL: settings.zipkinUrl,
      }),
    );
    const lines: string[] = [];

    expect(await upAll(external, (line) => lines.push(line))).toEqual([]);
    expect(lines).toEqual(
      ["postgres", "kafka", "prometheus", "zipkin"].map((name) =>
        expect.stringMatching(new RegExp(`^${name} +external, ready and provisioned in [\\d.]+s on `)),
      ),
    );
    const schemas = await superuserQuery(settings, "blueprint", "SELECT nspname FROM pg_namespace");
    expect(schemas.map((r) => r.nspname)).toEqual(
      expect.arrayContaining(serviceEntries().map((s) => s.database.schema)),
    );
    expect(await withKafkaAdmin(settings.kafkaBrokers, (admin) => admin.listTopics())).toContain(topic);

    await downAll(external, quiet);
    expect(deps.map((d) => d.runningPid())).toEqual(pids);
  }, 120_000);

  it("When external mode has the wrong superuser password, then up fails at once naming the variables", async () => {
    const [postgres] = localDependencies(
      loadSettings({
        BLUEPRINT_DEPS: "external",
        PGPORT: String(settings.postgres.port),
        PGSUPERPASSWORD: "wrong",
      }),
    );
    const began = Date.now();
    await expect(postgres?.up()).rejects.toThrow(
      /rejected superuser "postgres": password authentication failed .*Set PGSUPERUSER and PGSUPERPASSWORD/,
    );
    expect(Date.now() - began).toBeLessThan(10_000);
  });

  it("When a port is taken by another program, then up fails naming the port, the holder and the variable to change", async () => {
    await downAll(deps, quiet);
    const blocker = net.createServer().listen(settings.kafkaPort, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    try {
      const kafka = deps.find((d) => d.name === "kafka");
      await expect(kafka?.up()).rejects.toThrow(
        new RegExp(
          `port 127\\.0\\.0\\.1:${settings.kafkaPort} is already taken by node \\(pid \\d+\\)\\. Stop that process or choose another port with KAFKA_PORT=<port>\\.`,
        ),
      );
    } finally {
      blocker.close();
    }
  });

  it("When deps are brought down, then every port is free and none of their processes is left", async () => {
    await downAll(deps, quiet);
    for (const port of ports) expect(await portOpen(port)).toBe(false);
    for (const pid of pids) {
      const alive = spawnSync("kill", ["-0", String(pid)]).status === 0;
      const state = alive ? fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] : "gone";
      expect(["gone", "Z"]).toContain(state);
    }
    expect(deps.map((d) => d.runningPid())).toEqual(deps.map(() => undefined));
  }, 60_000);
});

describe("external dependencies that cannot be reached", () => {
  it.each([
    ["postgres", "PGPORT", "PGHOST and PGPORT"],
    ["kafka", "KAFKA_BROKERS", "KAFKA_BROKERS"],
    ["prometheus", "PROMETHEUS_URL", "PROMETHEUS_URL"],
    ["zipkin", "ZIPKIN_URL", "ZIPKIN_URL"],
  ])("When %s is not listening, then up fails naming its address and %s", async (name, variable, named) => {
    const port = await freePort();
    const value = {
      PGPORT: String(port),
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      PROMETHEUS_URL: `http://127.0.0.1:${port}`,
      ZIPKIN_URL: `http://127.0.0.1:${port}`,
    }[variable];
    const settings = loadSettings({
      BLUEPRINT_DEPS: "external",
      BLUEPRINT_EXTERNAL_WAIT_SECONDS: "1",
      [variable]: value,
    });
    const dep = localDependencies(settings).find((d) => d.name === name);
    const error = await upAll(dep ? [dep] : [], quiet).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`${name} is not usable: ${name} at `);
    expect(message).toContain(`127.0.0.1:${port} was not ready after 1s (last error: `);
    expect(message).toContain(
      "BLUEPRINT_DEPS=external expects it running there: start it (e.g. docker compose -f docker-compose-local.yml up -d postgres kafka kafka-init prometheus zipkin)",
    );
    expect(message).toContain(`or set ${named} to where it listens.`);
  });
});

describe("dependency settings", () => {
  it("When a port variable is not a port, then settings fail naming the variable and the value", () => {
    expect(() => loadSettings({ PGPORT: "54x" })).toThrow(
      'PGPORT must be a TCP port between 1 and 65535, got "54x"',
    );
  });

  it("When BLUEPRINT_DEPS, KAFKA_BROKERS or PROMETHEUS_URL is malformed, then settings fail naming it and the value", () => {
    expect(() => loadSettings({ BLUEPRINT_DEPS: "docker" })).toThrow(
      'BLUEPRINT_DEPS must be "local" or "external", got "docker"',
    );
    expect(() => loadSettings({ BLUEPRINT_DEPS: "external", KAFKA_BROKERS: "kafka" })).toThrow(
      'KAFKA_BROKERS must be host:port[,host:port...], got "kafka"',
    );
    expect(() => loadSettings({ BLUEPRINT_DEPS: "external", PROMETHEUS_URL: "127.0.0.1:9090" })).toThrow(
      'PROMETHEUS_URL must be an http(s) URL such as http://127.0.0.1:9090, got "127.0.0.1:9090"',
    );
  });

  it("When external mode is on without addresses, then the defaults are the ports docker-compose-local.yml publishes", () => {
    const settings = loadSettings({ BLUEPRINT_DEPS: "external", PGPORT: "15432" });
    expect(settings.postgres).toEqual({
      host: "127.0.0.1",
      port: 15432,
      superuser: "postgres",
      superuserPassword: "postgres",
    });
    expect(settings.kafkaBrokers).toEqual(["127.0.0.1:9092"]);
    expect(settings.prometheusUrl).toBe("http://127.0.0.1:9090");
  });
});
