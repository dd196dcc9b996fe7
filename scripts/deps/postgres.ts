import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CATALOG } from "@blueprint/service-kit/catalog";
import { Client } from "pg";
import type { Dependency } from "./dependency";
import { aptInstall, isRoot } from "./prerequisites";
import { assertPortFree, isAlive, tail, waitUntil } from "./processes";
import { provisioningSql } from "./provisioning";
import type { LocalSettings } from "./settings";

/** Local superuser password; loopback only, never used outside this folder. */
export const LOCAL_SUPERUSER_PASSWORD = "postgres";

function findBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], "bin");
}

export class Postgres implements Dependency {
  readonly name = "postgres";
  readonly address: string;
  private readonly dataDir: string;
  private readonly socketDir: string;
  private readonly logFile: string;

  constructor(private readonly settings: LocalSettings) {
    this.address = `${settings.host}:${settings.postgresPort}`;
    this.dataDir = path.join(settings.localDir, "postgres", "data");
    this.socketDir = path.join(settings.localDir, "postgres", "run");
    this.logFile = path.join(settings.logDir, "postgres.log");
  }

  runningPid(): number | undefined {
    try {
      const pid = Number.parseInt(fs.readFileSync(path.join(this.dataDir, "postmaster.pid"), "utf8"), 10);
      return isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async up(): Promise<boolean> {
    if (this.runningPid() !== undefined) {
      await this.provision();
      return false;
    }
    await assertPortFree("PostgreSQL", this.settings.host, this.settings.postgresPort, "PGPORT");
    let bin = findBinDir();
    if (!bin) {
      aptInstall(["postgresql"], "PostgreSQL server binaries are missing");
      bin = findBinDir();
      if (!bin)
        throw new Error(
          "postgresql was installed but no server binaries were found under /usr/lib/postgresql",
        );
    }
    this.prepareDirectories();
    if (!fs.existsSync(path.join(this.dataDir, "PG_VERSION"))) this.initdb(bin);
    const options = [
      `-c listen_addresses=${this.settings.host}`,
      `-c port=${this.settings.postgresPort}`,
      `-c unix_socket_directories=${this.socketDir}`,
      "-c max_connections=200",
    ].join(" ");
    this.runAsOwner(path.join(bin, "pg_ctl"), [
      "start",
      "-D",
      this.dataDir,
      "-l",
      this.logFile,
      "-o",
      options,
      "-s",
    ]);
    await waitUntil("PostgreSQL", async () => this.isReady(bin), {
      timeoutMs: 60_000,
      describe: () => tail(this.logFile),
    });
    await this.provision();
    return true;
  }

  async down(): Promise<void> {
    const bin = findBinDir();
    if (this.runningPid() === undefined || !bin) return;
    this.runAsOwner(path.join(bin, "pg_ctl"), ["stop", "-D", this.dataDir, "-m", "fast", "-s", "-t", "60"]);
  }

  private isReady(bin: string): boolean {
    const result = spawnSync(
      path.join(bin, "pg_isready"),
      ["-h", this.settings.host, "-p", String(this.settings.postgresPort), "-q"],
      { stdio: "ignore" },
    );
    return result.status === 0;
  }

  private prepareDirectories(): void {
    for (const dir of [this.dataDir, this.socketDir, this.settings.logDir])
      fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(this.dataDir, 0o700);
    if (!fs.existsSync(this.logFile)) fs.writeFileSync(this.logFile, "");
    if (isRoot()) {
      // PostgreSQL refuses to run as root; the Debian package's `postgres` user owns our folders
      // and must be able to traverse the local folder that holds them.
      fs.chmodSync(this.settings.localDir, 0o755);
      const owner = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
      const group = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
      if (owner.status !== 0)
        throw new Error("the postgres OS user is missing; reinstall the postgresql package");
      const uid = Number(owner.stdout.trim());
      const gid = Number(group.stdout.trim());
      for (const target of [path.dirname(this.dataDir), this.dataDir, this.socketDir, this.logFile]) {
        fs.chownSync(target, uid, gid);
      }
    }
  }

  private initdb(bin: string): void {
    const pwfile = path.join(path.dirname(this.dataDir), "superuser.pw");
    fs.writeFileSync(pwfile, `${LOCAL_SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
    if (isRoot()) spawnSync("chown", ["postgres:postgres", pwfile]);
    try {
      this.runAsOwner(path.join(bin, "initdb"), [
        "-D",
        this.dataDir,
        "-U",
        "postgres",
        `--pwfile=${pwfile}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
      ]);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  private runAsOwner(command: string, args: string[]): void {
    const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    const result = spawnSync(cmd as string, argv as string[], {
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
    if (result.status !== 0) {
      throw new Error(
        `${path.basename(command)} ${args[0]} failed (exit ${result.status}): ${result.stderr || result.stdout}\n${tail(this.logFile)}`,
      );
    }
  }

  /** Creates the shared database and one role and schema per service; safe to repeat. */
  private async provision(): Promise<void> {
    const connect = async (database: string) => {
      const client = new Client({
        host: this.settings.host,
        port: this.settings.postgresPort,
        user: "postgres",
        password: LOCAL_SUPERUSER_PASSWORD,
        database,
      });
      await client.connect();
      return client;
    };
    const admin = await connect("postgres");
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [CATALOG.database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${CATALOG.database}`);
    } finally {
      await admin.end();
    }
    const db = await connect(CATALOG.database);
    try {
      await db.query(provisioningSql());
    } finally {
      await db.end();
    }
  }
}
