import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually, REPO_ROOT, type ServiceKey, tsEntry } from "./environment";

/** A port that was free a moment ago (bound to 0 and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A real service process started from its sources, as `npm run stack:up` does. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  output = "";

  constructor(
    readonly service: ServiceKey,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    /** Write output to this file instead of keeping its tail in memory (benchmarks). */
    private readonly logFile?: string,
    /** Node's arguments; by default the service's TypeScript entry point through tsx (`tsEntry`). */
    private readonly nodeArgs: readonly string[] = tsEntry(service, "main"),
    /** Wraps the node command line (a benchmark's memory cgroup); the process keeps the launcher's pid. */
    private readonly launch?: (
      command: string,
      args: readonly string[],
    ) => { command: string; args: string[] },
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and waits until /ready answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    const log = this.logFile ? fs.openSync(this.logFile, "w") : "pipe";
    const { command, args } = this.launch?.(process.execPath, this.nodeArgs) ?? {
      command: process.execPath,
      args: [...this.nodeArgs],
    };
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...this.env, PORT: String(this.port) },
      stdio: ["ignore", log, log],
    });
    if (typeof log === "number") fs.closeSync(log);
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    await eventually(
      `${this.service}-service /ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${this.output}`);
        const res = await fetch(`${this.url}/ready`);
        return res.status === 200 ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited ?? null;
  }

  /** Resolves with the exit code once the process has exited (after `stop` or by itself). */
  waitForExit(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }

  /** Last resort in test teardown: the process we started, by its own handle. */
  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill("SIGKILL");
      await Promise.race([this.exited, sleep(5_000)]);
    }
  }
}
