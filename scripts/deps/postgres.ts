import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Dependency } from "./dependency";
import { createOwnedDirs, postgresHome, writeOwnedFile } from "./postgres-home";
import { ensure, isRoot, type Prerequisite, which } from "./prerequisites";
import { assertPortFree, commandLine, exited, isAlive, reusable, tail, waitUntil } from "./processes";
import { provisionDatabase } from "./provisioning";
import type { LocalSettings } from "./settings";

/** Debian's packages put each major version under /usr/lib/postgresql; Homebrew puts pg_ctl on PATH. */
function findBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] !== undefined) return path.join(root, versions[0], "bin");
  const pgCtl = which("pg_ctl");
  if (pgCtl === undefined) return undefined;
  const dir = path.dirname(fs.realpathSync(pgCtl));
  return ["initdb", "postgres"].every((b) => fs.existsSync(path.join(dir, b))) ? dir : undefined;
}

export const POSTGRES_SERVER: Prerequisite = {
  what: "PostgreSQL server (initdb, pg_ctl, postgres)",
  aptPackage: "postgresql",
  brewFormula: "postgresql@16",
  brewKegOnly: true,
  externalVariables: "PGHOST, PGPORT, PGSUPERUSER, PGSUPERPASSWORD",
  isPresent: () => findBinDir() !== undefined,
};

export class Postgres implements Dependency {
  readonly name = "postgres";
  readonly managed = true;
  readonly address: string;
  readonly runDir: string;
  /** Holds the data and socket folders; outside the checkout when running as root. */
  readonly home: string;
  private readonly dataDir: string;
  private readonly socketDir: string;
  private readonly logFile: string;

  constructor(private readonly settings: LocalSettings) {
    this.runDir = settings.runDir;
    this.address = `${settings.host}:${settings.postgresPort}`;
    this.home = postgresHome(settings);
    this.dataDir = path.join(this.home, "data");
    this.socketDir = path.join(this.home, "run");
    this.logFile = path.join(settings.logDir, "postgres.log");
  }

  /**
   * The postmaster's pid from postmaster.pid, when that process still runs on our data folder: after
   * a crash the file stays behind and its pid may belong to another program by now.
   */
  runningPid(): number | undefined {
    const pid = this.postmasterPid();
    const ours = pid !== undefined && isAlive(pid) && commandLine(pid).includes(`-D ${this.dataDir} `);
    return ours ? pid : undefined;
  }

  /** The pid postmaster.pid names, whether or not that process still runs. */
  private postmasterPid(): number | undefined {
    try {
      const pid = Number.parseInt(fs.readFileSync(path.join(this.dataDir, "postmaster.pid"), "utf8"), 10);
      return Number.isInteger(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async up(): Promise<boolean> {
    const ready = async () => {
      const bin = findBinDir();
      return bin !== undefined && this.isReady(bin);
    };
    const describe = () => tail(this.logFile);
    if (await reusable("PostgreSQL", () => this.runningPid(), ready, { timeoutMs: 60_000, describe })) {
      await provisionDatabase(this.settings.postgres);
      return false;
    }
    await assertPortFree("PostgreSQL", this.settings.host, this.settings.postgresPort, "PGPORT");
    ensure(POSTGRES_SERVER);
    const bin = findBinDir() as string; // ensure() just checked it
    createOwnedDirs(this.home, [this.dataDir, this.socketDir], this.settings.localDir);
    // Left by a crash (runningPid said no server runs on it). A server killed a moment ago is still
    // exiting, and PostgreSQL refuses to start while the pid in its lock files lives. One alive after
    // that wait is some other program that has the pid by now: the file is removed, or PostgreSQL
    // would refuse for good. A dead pid's file stays: PostgreSQL itself then checks that no process
    // of the crashed server still uses its shared memory.
    const crashed = this.postmasterPid();
    if (crashed !== undefined && !(await exited(crashed, 5_000))) {
      fs.rmSync(path.join(this.dataDir, "postmaster.pid"), { force: true });
    }
    if (!fs.existsSync(path.join(this.dataDir, "PG_VERSION"))) this.initdb(bin);
    const options = [
      `-c listen_addresses=${this.settings.host}`,
      `-c port=${this.settings.postgresPort}`,
      `-c unix_socket_directories=${this.socketDir}`,
      "-c max_connections=200",
    ].join(" ");
    // The server writes to a log we open, so the log stays in the local folder even when the
    // postgres OS user cannot enter it.
    fs.mkdirSync(this.settings.logDir, { recursive: true });
    const log = fs.openSync(this.logFile, "a");
    try {
      this.runAsOwner(path.join(bin, "pg_ctl"), ["start", "-D", this.dataDir, "-o", options, "-s"], log);
    } finally {
      fs.closeSync(log);
    }
    await waitUntil("PostgreSQL", ready, { timeoutMs: 60_000, describe });
    await provisionDatabase(this.settings.postgres);
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

  private initdb(bin: string): void {
    const pwfile = path.join(this.home, "superuser.pw");
    writeOwnedFile(pwfile, `${this.settings.postgres.superuserPassword}\n`);
    try {
      this.runAsOwner(path.join(bin, "initdb"), [
        "-D",
        this.dataDir,
        "-U",
        this.settings.postgres.superuser,
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

  /** Runs a PostgreSQL program as its OS user; output goes to `output` (a file descriptor) when given. */
  private runAsOwner(command: string, args: string[], output?: number): void {
    const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    const result = spawnSync(cmd as string, argv as string[], {
      stdio: ["ignore", output ?? "pipe", output ?? "pipe"],
      encoding: "utf8",
    });
    if (result.status !== 0) {
      throw new Error(
        `${path.basename(command)} ${args[0]} failed (exit ${result.status}): ${result.stderr || result.stdout || ""}\n${tail(this.logFile)}`,
      );
    }
  }
}
