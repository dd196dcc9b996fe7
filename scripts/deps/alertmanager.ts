import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { ROUTE_TIMING, type RouteTiming, selfRunAlertmanagerConfig } from "../../dashboards/src/alertmanager";
import type { Dependency } from "./dependency";
import { ensure, type Prerequisite, which } from "./prerequisites";
import { assertPortFree, reusable, runningPid, spawnDetached, stopPid, tail, waitUntil } from "./processes";
import type { LocalSettings } from "./settings";

/** Debian names the binary after the package; upstream archives and Homebrew call it `alertmanager`. */
const BINARIES = ["prometheus-alertmanager", "alertmanager"] as const;

export const ALERTMANAGER: Prerequisite = {
  what: "Alertmanager (prometheus-alertmanager and amtool)",
  aptPackage: "prometheus-alertmanager",
  brewFormula: "alertmanager",
  // In external mode the compose stack's Prometheus alerts its own Alertmanager.
  externalVariables: "PROMETHEUS_URL",
  isPresent: () => BINARIES.some((b) => which(b) !== undefined) && which("amtool") !== undefined,
};

export interface AlertmanagerOptions {
  /**
   * The SMTP server alerts are mailed to, `host:port`.
   * @default the mail catcher of `npm run stack:up`, 127.0.0.1:SMTP_PORT
   */
  readonly smarthost?: string;
  /** @default ROUTE_TIMING (30 s group wait, 5 min group interval); tests shorten it */
  readonly timing?: RouteTiming;
}

/** True once Alertmanager at `url` has loaded its configuration. */
export async function alertmanagerReady(url: string): Promise<boolean> {
  return (await fetch(`${url}/-/ready`)).ok;
}

/**
 * Alertmanager from Debian's `prometheus-alertmanager` package, receiving the local Prometheus'
 * alerts and mailing pages, tickets and the watchdog to the mail catcher
 * (dashboards/src/alertmanager.ts, the same tree as dashboards/generated/alertmanager.local.yml).
 */
export class Alertmanager implements Dependency {
  readonly name = "alertmanager";
  readonly managed = true;
  readonly address: string;
  readonly runDir: string;
  private readonly home: string;
  private readonly configFile: string;
  private readonly logFile: string;
  private readonly pidFile: string;

  constructor(
    private readonly settings: LocalSettings,
    private readonly options: AlertmanagerOptions = {},
  ) {
    this.runDir = settings.runDir;
    this.address = `${settings.host}:${settings.alertmanagerPort}`;
    this.home = path.join(settings.localDir, "alertmanager");
    this.configFile = path.join(this.home, "alertmanager.yml");
    this.logFile = path.join(settings.logDir, "alertmanager.log");
    this.pidFile = path.join(settings.runDir, "alertmanager.pid");
  }

  runningPid(): number | undefined {
    return runningPid({ pidFile: this.pidFile, marker: this.configFile });
  }

  async up(): Promise<boolean> {
    const ready = () => alertmanagerReady(`http://${this.address}`);
    const describe = () => tail(this.logFile);
    if (await reusable("Alertmanager", () => this.runningPid(), ready, { timeoutMs: 30_000, describe }))
      return false;
    const { host, alertmanagerPort } = this.settings;
    await assertPortFree("Alertmanager", host, alertmanagerPort, "ALERTMANAGER_PORT");
    ensure(ALERTMANAGER);
    const binary = BINARIES.find((b) => which(b) !== undefined) ?? BINARIES[0];
    fs.mkdirSync(path.join(this.home, "data"), { recursive: true });
    const smarthost = this.options.smarthost ?? `${host}:${this.settings.smtpPort}`;
    const config = selfRunAlertmanagerConfig(smarthost, this.options.timing ?? ROUTE_TIMING);
    fs.writeFileSync(this.configFile, stringify(config, { lineWidth: 0 }));
    const check = spawnSync("amtool", ["check-config", this.configFile], { encoding: "utf8" });
    if (check.status !== 0)
      throw new Error(`amtool rejected ${this.configFile}:\n${check.stdout}${check.stderr}`);
    const pid = spawnDetached(
      binary,
      [
        `--config.file=${this.configFile}`,
        `--storage.path=${path.join(this.home, "data")}`,
        `--web.listen-address=${this.address}`,
        // A single instance: no gossip port to collide with other checkouts.
        "--cluster.listen-address=",
      ],
      { logFile: this.logFile, pidFile: this.pidFile },
    );
    await waitUntil("Alertmanager", ready, {
      timeoutMs: 30_000,
      stillRunning: () => this.runningPid() === pid,
      describe,
    });
    return true;
  }

  async down(): Promise<void> {
    const pid = this.runningPid();
    if (pid === undefined) return;
    await stopPid(pid, 15_000);
    fs.rmSync(this.pidFile, { force: true });
  }
}
