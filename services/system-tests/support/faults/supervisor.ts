import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT, type ServiceKey, tsEntry } from "../environment";

/**
 * A service process kept running the way an orchestrator keeps a pod running: when it exits on
 * its own it is started again after a second, and the exit is counted. `kill` is the fault
 * injector's SIGKILL, which is not counted. Started means listening: /health answers, not /ready,
 * because a service that degrades while a dependency is down is up but not ready.
 */
export class SupervisedService {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Exits the suite did not cause (crashes), since the last `takeCrashes`. */
  private crashes = 0;
  output = "";

  constructor(
    readonly service: ServiceKey,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Spawns the process; the supervisor restarts it whenever it exits until `stop`. */
  spawn(): void {
    this.stopped = false;
    const child = spawn(process.execPath, tsEntry(this.service, "main"), {
      cwd: REPO_ROOT,
      env: { ...this.env, PORT: String(this.port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        resolve();
        if (this.child !== child || this.stopped) return;
        this.crashes += 1;
        void sleep(1_000).then(() => {
          if (this.child === child && !this.stopped) this.spawn();
        });
      }),
    );
  }

  /** Resolves once a process is listening (/health 200); fails after `timeoutMs`. */
  async listening(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) return;
      await sleep(200);
    }
    throw new Error(`${this.service}-service not listening after ${timeoutMs} ms:\n${this.output}`);
  }

  /** Whether /ready answers 200 now. */
  ready(): Promise<boolean> {
    return fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
  }

  /** The fault: SIGKILL, and wait until the process is gone. Not counted as a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await this.exited;
    }
  }

  /** Crashes counted since the last call. */
  takeCrashes(): number {
    const n = this.crashes;
    this.crashes = 0;
    return n;
  }

  /** Teardown: no more restarts, and the process killed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.kill();
  }
}
