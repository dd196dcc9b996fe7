import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { ROUTE_TIMING, type RouteTiming, selfRunAlertmanagerConfig } from "../../dashboards/src/alertmanager";
import { type LocalCommand, LocalProcess } from "./local-process";
import { type Prerequisite, which } from "./prerequisites";
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
export class Alertmanager extends LocalProcess {
  private readonly configFile: string;

  constructor(
    settings: LocalSettings,
    private readonly options: AlertmanagerOptions = {},
  ) {
    super(settings, {
      name: "alertmanager",
      title: "Alertmanager",
      port: settings.alertmanagerPort,
      portVariable: "ALERTMANAGER_PORT",
      prerequisite: ALERTMANAGER,
      readyTimeoutMs: 30_000,
    });
    this.configFile = path.join(this.home, "alertmanager.yml");
  }

  protected marker(): string {
    return this.configFile;
  }

  protected ready(url: string): Promise<boolean> {
    return alertmanagerReady(url);
  }

  protected async prepare(): Promise<LocalCommand> {
    const binary = BINARIES.find((b) => which(b) !== undefined) ?? BINARIES[0];
    fs.mkdirSync(path.join(this.home, "data"), { recursive: true });
    const smarthost = this.options.smarthost ?? `${this.settings.host}:${this.settings.smtpPort}`;
    const config = selfRunAlertmanagerConfig(smarthost, this.options.timing ?? ROUTE_TIMING);
    fs.writeFileSync(this.configFile, stringify(config, { lineWidth: 0 }));
    const check = spawnSync("amtool", ["check-config", this.configFile], { encoding: "utf8" });
    if (check.status !== 0)
      throw new Error(`amtool rejected ${this.configFile}:\n${check.stdout}${check.stderr}`);
    return {
      command: binary,
      args: [
        `--config.file=${this.configFile}`,
        `--storage.path=${path.join(this.home, "data")}`,
        `--web.listen-address=${this.address}`,
        // A single instance: no gossip port to collide with other checkouts.
        "--cluster.listen-address=",
      ],
    };
  }
}
