import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "pg";
import { KafkaBroker } from "../../../../scripts/deps/kafka";
import { Postgres } from "../../../../scripts/deps/postgres";
import { isAlive, portInUse } from "../../../../scripts/deps/processes";
import { type LocalSettings, loadSettings } from "../../../../scripts/deps/settings";
import { freePort } from "../processes";

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs`. */
async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function portOr(env: string | undefined): Promise<string> {
  return env || String(await freePort());
}

/**
 * A PostgreSQL cluster and a Kafka broker of the fault suite's own, in a temporary folder and on
 * their own ports, so it can kill and restart them without disturbing anyone sharing the machine's.
 * Ports come from FAULTS_PGPORT, FAULTS_KAFKA_PORT and FAULTS_KAFKA_CONTROLLER_PORT, or are free ones.
 */
export class PrivateCluster {
  private constructor(
    readonly settings: LocalSettings,
    readonly postgres: Postgres,
    readonly broker: KafkaBroker,
  ) {}

  static async create(): Promise<PrivateCluster> {
    const settings = loadSettings({
      ...process.env,
      BLUEPRINT_DEPS: "local",
      BLUEPRINT_LOCAL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-faults-")),
      // The Kafka download is shared with `deps:up`.
      BLUEPRINT_CACHE_DIR: loadSettings().cacheDir,
      PGPORT: await portOr(process.env.FAULTS_PGPORT),
      KAFKA_PORT: await portOr(process.env.FAULTS_KAFKA_PORT),
      KAFKA_CONTROLLER_PORT: await portOr(process.env.FAULTS_KAFKA_CONTROLLER_PORT),
      KAFKA_HEAP_MB: "256",
    });
    return new PrivateCluster(settings, new Postgres(settings), new KafkaBroker(settings));
  }

  get pgPort(): string {
    return String(this.settings.postgresPort);
  }

  get brokers(): string {
    return this.broker.address;
  }

  /**
   * A superuser pool on the services' database, for the suite's own checks. PostgreSQL restarts
   * under it: an idle connection it terminates is dropped, and the next check opens a new one.
   */
  superuserPool(): Pool {
    const { host, port, superuser, superuserPassword } = this.settings.postgres;
    const pool = new Pool({
      host,
      port,
      user: superuser,
      password: superuserPassword,
      database: "blueprint",
      max: 2,
      connectionTimeoutMillis: 2_000,
    });
    pool.on("error", () => undefined);
    return pool;
  }

  async up(): Promise<void> {
    await Promise.all([this.postgres.up(), this.broker.up()]);
  }

  /** Stops PostgreSQL as `pg_ctl stop -m fast` does (SIGINT to the postmaster) and waits until it is gone. */
  async stopPostgres(): Promise<void> {
    const pid = this.postgres.runningPid();
    if (pid === undefined) return;
    process.kill(pid, "SIGINT");
    await this.gone("PostgreSQL", pid, [this.settings.postgresPort], 60_000);
  }

  /** SIGKILLs the broker, as a crashed or OOM-killed broker goes. */
  async killBroker(): Promise<void> {
    const pid = this.broker.runningPid();
    if (pid === undefined) return;
    process.kill(pid, "SIGKILL");
    await this.gone("the broker", pid, [this.settings.kafkaPort, this.settings.kafkaControllerPort], 30_000);
  }

  /**
   * Waits until `pid` has exited and its ports are free: a dying JVM's command line vanishes
   * before its sockets close, so restarting on "no longer running" alone finds the port taken.
   */
  private async gone(what: string, pid: number, ports: readonly number[], timeoutMs: number): Promise<void> {
    const { host } = this.settings;
    await until(
      `${what} to exit`,
      async () =>
        !isAlive(pid) && (await Promise.all(ports.map((p) => portInUse(host, p)))).every((used) => !used),
      timeoutMs,
    );
  }

  /** Stops both and removes their folders, whatever state they are in. */
  async down(): Promise<void> {
    await Promise.allSettled([this.broker.down(), this.postgres.down()]);
    fs.rmSync(this.postgres.home, { recursive: true, force: true });
    fs.rmSync(this.settings.localDir, { recursive: true, force: true });
  }
}
