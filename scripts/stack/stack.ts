import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { CATALOG, type ServiceName, serviceEntries } from "@blueprint/service-kit/catalog";
import { localAuthEnv } from "@blueprint/service-kit/dev-tokens";
import type { Dependency } from "../deps/dependency";
import { assertPortFree, runningPid, spawnDetached, stopPid, tail, waitUntil } from "../deps/processes";
import { localServicePassword } from "../deps/provisioning";
import { DependencyStartError, downAll, localDependencies, upAll } from "../deps/registry";
import { acquireRunLock } from "../deps/run-lock";
import { dependencyEnv, type LocalSettings } from "../deps/settings";

/** One process of the native stack that `stack:up` starts and `stack:down` stops. */
interface StackProcess {
  readonly name: string;
  readonly entry: string;
  readonly port: number;
  readonly portVariable: string;
  readonly env: NodeJS.ProcessEnv;
  readonly url: string;
  /** Where to check readiness; resolves true when ready. */
  ready(): Promise<boolean>;
}

export interface StackPorts {
  readonly services: Readonly<Record<ServiceName, number>>;
  readonly smtp: number;
  readonly mailUi: number;
}

/** The variable that moves a service's local port: `USER_SERVICE_PORT` for user-service. */
function portVariable(service: string): string {
  return `${service.replace(/-/g, "_").toUpperCase()}_PORT`;
}

function envPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a TCP port between 1 and 65535, got "${raw}"`);
  }
  return value;
}

export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  return {
    services: Object.fromEntries(
      serviceEntries().map((s) => [s.name, envPort(env, portVariable(s.name), s.port)]),
    ) as Record<ServiceName, number>,
    smtp: envPort(env, "SMTP_PORT", 1025),
    mailUi: envPort(env, "MAIL_UI_PORT", 8025),
  };
}

const httpReady = (url: string) => async () => (await fetch(url).catch(() => undefined))?.status === 200;

function processes(settings: LocalSettings, ports: StackPorts): StackProcess[] {
  const root = settings.repoRoot;
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...dependencyEnv(settings),
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
  const catcher: StackProcess = {
    name: "mail-catcher",
    entry: path.join(root, "scripts/stack/mail-catcher.ts"),
    port: ports.smtp,
    portVariable: "SMTP_PORT",
    env: { ...common, SMTP_PORT: String(ports.smtp), MAIL_UI_PORT: String(ports.mailUi) },
    url: `http://${settings.host}:${ports.mailUi}`,
    ready: httpReady(`http://${settings.host}:${ports.mailUi}/messages`),
  };
  const services = serviceEntries().map((s): StackProcess => {
    const port = ports.services[s.name as ServiceName];
    return {
      name: s.name,
      entry: path.join(root, `services/${s.name}/src/main.ts`),
      port,
      portVariable: portVariable(s.name),
      env: {
        ...common,
        PORT: String(port),
        PGUSER: s.database.role,
        PGPASSWORD: localServicePassword(s.database.role),
        SMTP_HOST: settings.host,
        SMTP_PORT: String(ports.smtp),
        // Tokens of `npm run token` (the development key under the local directory) are trusted.
        ...localAuthEnv(settings.localDir),
      },
      url: `http://${settings.host}:${port}`,
      ready: httpReady(`http://${settings.host}:${port}/ready`),
    };
  });
  return [catcher, ...services];
}

function files(settings: LocalSettings, name: string) {
  return {
    pidFile: path.join(settings.runDir, `stack-${name}.pid`),
    logFile: path.join(settings.logDir, `${name}.log`),
  };
}

const stateFile = (settings: LocalSettings) => path.join(settings.runDir, "stack-deps.json");

const readState = (settings: LocalSettings): string[] =>
  fs.existsSync(stateFile(settings))
    ? (JSON.parse(fs.readFileSync(stateFile(settings), "utf8")) as string[])
    : [];

function writeState(settings: LocalSettings, names: readonly string[]): void {
  fs.mkdirSync(settings.runDir, { recursive: true });
  fs.writeFileSync(stateFile(settings), JSON.stringify([...new Set(names)]));
}

/**
 * Starts the dependencies (reusing running ones), the mail catcher and the three services from
 * their sources, each in the background with a pid file and a log, and waits until all are ready.
 * When one fails, what this call started is stopped again: stack:down would leave a dependency it
 * did not record, and processes left half-started only get in the way of the next try.
 */
export async function stackUp(settings: LocalSettings, ports: StackPorts, log = console.log): Promise<void> {
  acquireRunLock(settings.runDir);
  const previously = readState(settings);
  const startedDeps: Dependency[] = [];
  const startedProcesses: Array<{ name: string; pid: number; pidFile: string }> = [];
  try {
    try {
      startedDeps.push(...(await upAll(localDependencies(settings), log)));
    } catch (error) {
      if (error instanceof DependencyStartError) startedDeps.push(...error.started);
      throw error;
    }
    writeState(settings, [...previously, ...startedDeps.map((d) => d.name)]);

    for (const proc of processes(settings, ports)) {
      const { pidFile, logFile } = files(settings, proc.name);
      const began = Date.now();
      const existing = runningPid({ pidFile, marker: proc.entry });
      if (existing !== undefined) {
        log(`${proc.name.padEnd(21)} already running, reused (pid ${existing})`);
        continue;
      }
      await assertPortFree(proc.name, settings.host, proc.port, proc.portVariable);
      const pid = spawnDetached(
        process.execPath,
        ["--conditions=development", "--import", "tsx", proc.entry],
        {
          logFile,
          pidFile,
          env: proc.env,
          cwd: settings.repoRoot,
        },
      );
      startedProcesses.push({ name: proc.name, pid, pidFile });
      await waitUntil(proc.name, proc.ready, {
        timeoutMs: 90_000,
        intervalMs: 300,
        stillRunning: () => runningPid({ pidFile, marker: proc.entry }) === pid,
        describe: () => tail(logFile),
      });
      log(`${proc.name.padEnd(21)} started in ${((Date.now() - began) / 1000).toFixed(1)}s (pid ${pid})`);
    }
  } catch (error) {
    if (startedProcesses.length > 0 || startedDeps.length > 0)
      log("stack:up failed; stopping what it started");
    for (const { name, pid, pidFile } of startedProcesses.reverse()) {
      await stopPid(pid, 15_000);
      fs.rmSync(pidFile, { force: true });
      log(`${name.padEnd(21)} stopped (pid ${pid})`);
    }
    if (startedDeps.length > 0) await downAll(startedDeps, log);
    writeState(settings, previously);
    throw error;
  }
}

/** Stops the services and the mail catcher, then the dependencies that stack:up itself started. */
export async function stackDown(
  settings: LocalSettings,
  ports: StackPorts,
  log = console.log,
): Promise<void> {
  acquireRunLock(settings.runDir);
  for (const proc of processes(settings, ports).reverse()) {
    const { pidFile } = files(settings, proc.name);
    const pid = runningPid({ pidFile, marker: proc.entry });
    if (pid === undefined) {
      log(`${proc.name.padEnd(21)} was not running`);
      continue;
    }
    await stopPid(pid, 15_000);
    fs.rmSync(pidFile, { force: true });
    log(`${proc.name.padEnd(21)} stopped (pid ${pid})`);
  }
  const names = readState(settings);
  const ours: Dependency[] = localDependencies(settings).filter((d) => names.includes(d.name));
  if (ours.length > 0) await downAll(ours, log);
  fs.rmSync(stateFile(settings), { force: true });
  const reused = localDependencies(settings).filter(
    (d) => !names.includes(d.name) && d.runningPid() !== undefined,
  );
  if (reused.length > 0)
    log(`left running (not started by stack:up): ${reused.map((d) => d.name).join(", ")}`);
}

/** Whether something accepts connections on `host:port`, or on the socket at `path`. */
function accepts(target: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** `host:port`, the host possibly an IPv6 address (`::1:5432`, `[::1]:5432`). */
function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return {
    host: address.slice(0, colon).replace(/^\[(.*)\]$/, "$1"),
    port: Number(address.slice(colon + 1)),
  };
}

/** An http(s) URL's host and port, the scheme's default port when it names none. */
function urlHostPort(raw: string): { host: string; port: number } {
  const url = new URL(raw);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

/** Where everything listens, for the closing message of stack:up. */
export async function describeStack(settings: LocalSettings, ports: StackPorts): Promise<string> {
  const { host, postgres } = settings;
  // PGHOST may name the folder of PostgreSQL's Unix socket, as for libpq.
  const postgresTarget = postgres.host.startsWith("/")
    ? { path: path.join(postgres.host, `.s.PGSQL.${postgres.port}`) }
    : { host: postgres.host, port: postgres.port };
  // name, where it listens as shown, and the address that tells whether it is up.
  type Row = [string, string, Parameters<typeof accepts>[0]];
  const rows: Row[] = [
    ...Object.entries(ports.services).map(
      ([name, port]): Row => [name, `http://${host}:${port}  (/openapi.json, /metrics)`, { host, port }],
    ),
    [
      "mail catcher",
      `smtp://${host}:${ports.smtp}, web http://${host}:${ports.mailUi}`,
      { host, port: ports.smtp },
    ],
    ["PostgreSQL", `${postgres.host}:${postgres.port} (database ${CATALOG.database})`, postgresTarget],
    ["Kafka", settings.kafkaBrokers.join(","), hostPort(settings.kafkaBrokers[0] ?? "")],
    ["Prometheus", settings.prometheusUrl, urlHostPort(settings.prometheusUrl)],
    ["Zipkin (traces)", `${settings.zipkinUrl}/zipkin/`, urlHostPort(settings.zipkinUrl)],
  ];
  const status = await Promise.all(
    rows.map(async ([name, where, target]) => {
      const up = await accepts(target);
      return `  ${name.padEnd(21)} ${up ? "up  " : "down"}  ${where}`;
    }),
  );
  return `${status.join("\n")}\nlogs: ${settings.logDir}`;
}
