import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { LOCAL_PROMETHEUS_CONFIG } from "../../dashboards/src/paths";
import { type LocalCommand, LocalProcess } from "./local-process";
import { type Prerequisite, which } from "./prerequisites";
import type { LocalSettings } from "./settings";

export interface PrometheusOptions {
  /**
   * Scrape addresses per job name, replacing the generated config's target, e.g. the replicas of
   * each service the live check starts on other ports.
   * @default the addresses in dashboards/generated/prometheus.local.yml
   */
  readonly targets?: Readonly<Record<string, readonly string[]>>;
  /** Scrape only the jobs `targets` names (and Prometheus itself). @default false */
  readonly onlyTargetedJobs?: boolean;
  /** Scrape and evaluation interval instead of the generated one; tests shorten it. */
  readonly interval?: string;
  /** Every alert's `for` instead of its own, in this instance's copy of the rules; tests shorten it. */
  readonly alertFor?: string;
  /**
   * How soon a firing alert is sent again; Prometheus' first sends can precede its notifier's
   * start, so tests shorten it. @default Prometheus' own, 1m
   */
  readonly resendDelay?: string;
  /** Send alerts to the local Alertmanager (ALERTMANAGER_PORT). @default true */
  readonly sendAlerts?: boolean;
}

interface RuleFile {
  groups?: Array<{ rules?: Array<{ alert?: string; for?: string }> }>;
}

interface ScrapeConfigFile {
  global?: { scrape_interval?: string; evaluation_interval?: string };
  alerting?: { alertmanagers?: Array<{ static_configs?: Array<{ targets: string[] }> }> };
  rule_files?: string[];
  scrape_configs?: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }> }>;
}

export const PROMETHEUS: Prerequisite = {
  what: "Prometheus (prometheus and promtool)",
  aptPackage: "prometheus",
  brewFormula: "prometheus",
  externalVariables: "PROMETHEUS_URL",
  isPresent: () => which("prometheus") !== undefined && which("promtool") !== undefined,
};

/** True once Prometheus at `url` (e.g. http://127.0.0.1:9090) has loaded its config and storage. */
export async function prometheusReady(url: string): Promise<boolean> {
  return (await fetch(`${url}/-/ready`)).ok;
}

/**
 * Prometheus from Debian's `prometheus` package, scraping the locally running services with the
 * generated scrape config and alert rules (`npm run dashboards:generate`).
 */
export class Prometheus extends LocalProcess {
  private readonly configFile: string;

  constructor(
    settings: LocalSettings,
    private readonly options: PrometheusOptions = {},
  ) {
    super(settings, {
      name: "prometheus",
      title: "Prometheus",
      port: settings.prometheusPort,
      portVariable: "PROMETHEUS_PORT",
      prerequisite: PROMETHEUS,
      readyTimeoutMs: 60_000,
    });
    this.configFile = path.join(this.home, "prometheus.yml");
  }

  protected marker(): string {
    return this.configFile;
  }

  protected ready(url: string): Promise<boolean> {
    return prometheusReady(url);
  }

  protected async prepare(): Promise<LocalCommand> {
    this.writeConfig();
    const check = spawnSync("promtool", ["check", "config", this.configFile], { encoding: "utf8" });
    if (check.status !== 0)
      throw new Error(`promtool rejected ${this.configFile}:\n${check.stdout}${check.stderr}`);
    return {
      command: "prometheus",
      args: [
        `--config.file=${this.configFile}`,
        `--storage.tsdb.path=${path.join(this.home, "data")}`,
        `--web.listen-address=${this.address}`,
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time=2d",
        ...(this.options.resendDelay ? [`--rules.alert.resend-delay=${this.options.resendDelay}`] : []),
      ],
    };
  }

  /**
   * Writes the generated local config with its paths and addresses relocated: rule files made
   * absolute (or copied with `alertFor`), Prometheus' own target on this instance's address, the
   * local Alertmanager's address, jobs moved per `targets`.
   */
  private writeConfig(): void {
    fs.mkdirSync(path.join(this.home, "data"), { recursive: true });
    const generated = path.join(this.settings.repoRoot, LOCAL_PROMETHEUS_CONFIG);
    const config = parse(fs.readFileSync(generated, "utf8")) as ScrapeConfigFile;
    config.rule_files = (config.rule_files ?? []).map((glob) => path.resolve(path.dirname(generated), glob));
    if (this.options.alertFor !== undefined)
      config.rule_files = this.copyRules(config.rule_files, this.options.alertFor);
    if (this.options.interval !== undefined)
      config.global = { scrape_interval: this.options.interval, evaluation_interval: this.options.interval };
    const alertmanager = `${this.settings.host}:${this.settings.alertmanagerPort}`;
    for (const am of config.alerting?.alertmanagers ?? [])
      for (const staticConfig of am.static_configs ?? []) staticConfig.targets = [alertmanager];
    if (this.options.sendAlerts === false) delete config.alerting;
    const targets = this.options.targets ?? {};
    if (this.options.onlyTargetedJobs)
      config.scrape_configs = (config.scrape_configs ?? []).filter(
        (job) => job.job_name === "prometheus" || job.job_name in targets,
      );
    for (const job of config.scrape_configs ?? []) {
      const moved = job.job_name === "prometheus" ? [this.address] : targets[job.job_name];
      if (moved === undefined) continue;
      for (const staticConfig of job.static_configs ?? []) staticConfig.targets = [...moved];
    }
    fs.writeFileSync(this.configFile, stringify(config, { lineWidth: 0 }));
  }

  /** Copies the rule files matched by `globs` into this instance's home with every alert's `for` set. */
  private copyRules(globs: readonly string[], alertFor: string): string[] {
    const dir = path.join(this.home, "rules");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const glob of globs) {
      const folder = path.dirname(glob);
      const suffix = path.basename(glob).replace(/^\*/, "");
      for (const file of fs.readdirSync(folder).filter((f) => f.endsWith(suffix))) {
        const rules = parse(fs.readFileSync(path.join(folder, file), "utf8")) as RuleFile;
        for (const group of rules.groups ?? [])
          for (const rule of group.rules ?? []) if (rule.alert !== undefined) rule.for = alertFor;
        fs.writeFileSync(path.join(dir, file), stringify(rules, { lineWidth: 0 }));
      }
    }
    return [path.join(dir, "*.rules.yml")];
  }
}
