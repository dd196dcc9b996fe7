import fs from "node:fs";
import path from "node:path";
import type { Dependency } from "./dependency";
import { ensure, type Prerequisite } from "./prerequisites";
import { assertPortFree, reusable, runningPid, spawnDetached, stopPid, tail, waitUntil } from "./processes";
import type { LocalSettings } from "./settings";

/** What tells one single-process dependency from another. */
export interface LocalProcessSpec {
  /** Its name in the registry and its files: `prometheus` -> .local/prometheus, logs/prometheus.log. */
  readonly name: string;
  /** Its name in messages: `Prometheus`. */
  readonly title: string;
  readonly port: number;
  /** The variable that moves `port`, named when it is taken. */
  readonly portVariable: string;
  readonly prerequisite: Prerequisite;
  /** How long it may take to answer ready, when started or found running. */
  readonly readyTimeoutMs: number;
}

/** The program to start, once `prepare` has written what it reads. */
export interface LocalCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A dependency that is one local process of ours (Prometheus, Alertmanager, Zipkin): reused when
 * our instance already answers, started detached with its pid file and log, stopped by pid. Its
 * home folder under BLUEPRINT_LOCAL_DIR is this checkout's own; `marker` is a path in its command
 * line that proves a running process is ours.
 */
export abstract class LocalProcess implements Dependency {
  readonly managed = true;
  readonly name: string;
  readonly address: string;
  readonly runDir: string;
  protected readonly home: string;
  protected readonly logFile: string;
  private readonly pidFile: string;

  constructor(
    protected readonly settings: LocalSettings,
    private readonly spec: LocalProcessSpec,
  ) {
    this.name = spec.name;
    this.runDir = settings.runDir;
    this.address = `${settings.host}:${spec.port}`;
    this.home = path.join(settings.localDir, spec.name);
    this.logFile = path.join(settings.logDir, `${spec.name}.log`);
    this.pidFile = path.join(settings.runDir, `${spec.name}.pid`);
  }

  /** A path in the process' command line that only this checkout's instance has. */
  protected abstract marker(): string;
  /** True once the instance at `url` (http://host:port) serves. */
  protected abstract ready(url: string): Promise<boolean>;
  /** Writes its configuration, fetches what it runs; called once the port is known to be free. */
  protected abstract prepare(): Promise<LocalCommand>;

  runningPid(): number | undefined {
    return runningPid({ pidFile: this.pidFile, marker: this.marker() });
  }

  async up(): Promise<boolean> {
    const { title, readyTimeoutMs: timeoutMs } = this.spec;
    const ready = () => this.ready(`http://${this.address}`);
    const describe = () => tail(this.logFile);
    if (await reusable(title, () => this.runningPid(), ready, { timeoutMs, describe })) return false;
    await assertPortFree(title, this.settings.host, this.spec.port, this.spec.portVariable);
    ensure(this.spec.prerequisite);
    fs.mkdirSync(this.home, { recursive: true });
    const { command, args, env } = await this.prepare();
    const pid = spawnDetached(command, args, { logFile: this.logFile, pidFile: this.pidFile, env });
    await waitUntil(title, ready, { timeoutMs, stillRunning: () => this.runningPid() === pid, describe });
    return true;
  }

  async down(): Promise<void> {
    const pid = this.runningPid();
    if (pid === undefined) return;
    await stopPid(pid, 15_000);
    fs.rmSync(this.pidFile, { force: true });
  }
}
