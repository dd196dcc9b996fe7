import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { LOCAL_PROMETHEUS_CONFIG } from "../../dashboards/src/paths";
import type { Dependency } from "./dependency";
import { ensure, type Prerequisite, which } from "./prerequisites";
import { assertPortFree, reusable, runningPid, spawnDetached, stopPid, tail, waitUntil } from "./processes";
import type { LocalSettings } from "./settings";

export interface PrometheusOptions {
  /**
   * Scrape address per job name, replacing the generated config's target, e.g. services started
   * on other ports by the live check.
   * @default the addresses in dashboards/generated/prometheus.local.yml
   */
  readonly targets?: Readonly<Record<string, string>>;
}

interface ScrapeConfigFile {
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
export class Prometheus implements Dependency {
  readonly name = "prometheus";
  readonly managed = true;
  readonly address: string;
  readonly runDir: string;
  private readonly home: string;
  private readonly configFile: string;
  private readonly logFile: string;
  private readonly pidFile: string;

  constructor(
    private readonly settings: LocalSettings,
    private readonly options: PrometheusOptions = {},
  ) {
    this.runDir = settings.runDir;
    this.address = `${settings.host}:${settings.prometheusPort}`;
    this.home = path.join(settings.localDir, "prometheus");
    this.configFile = path.join(this.home, "prometheus.yml");
    this.logFile = path.join(settings.logDir, "prometheus.log");
    this.pidFile = path.join(settings.runDir, "prometheus.pid");
  }

  runningPid(): number | undefined {
    return runningPid({ pidFile: this.pidFile, marker: this.configFile });
  }

  async up(): Promise<boolean> {
    const ready = () => prometheusReady(`http://${this.address}`);
    const describe = () => tail(this.logFile);
    if (await reusable("Prometheus", () => this.runningPid(), ready, { timeoutMs: 60_000, describe }))
      return false;
    await assertPortFree("Prometheus", this.settings.host, this.settings.prometheusPort, "PROMETHEUS_PORT");
    ensure(PROMETHEUS);
    this.writeConfig();
    const check = spawnSync("promtool", ["check", "config", this.configFile], { encoding: "utf8" });
    if (check.status !== 0)
      throw new Error(`promtool rejected ${this.configFile}:\n${check.stdout}${check.stderr}`);
    const pid = spawnDetached(
      "prometheus",
      [
        `--config.file=${this.configFile}`,
        `--storage.tsdb.path=${path.join(this.home, "data")}`,
        `--web.listen-address=${this.address}`,
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time=2d",
      ],
      { logFile: this.logFile, pidFile: this.pidFile },
    );
    await waitUntil("Prometheus", ready, {
      timeoutMs: 60_000,
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

  /**
   * Writes the generated local config with its paths and addresses relocated: rule files made
   * absolute, Prometheus' own target on this instance's address, jobs moved per `targets`.
   */
  private writeConfig(): void {
    fs.mkdirSync(path.join(this.home, "data"), { recursive: true });
    const generated = path.join(this.settings.repoRoot, LOCAL_PROMETHEUS_CONFIG);
    const config = parse(fs.readFileSync(generated, "utf8")) as ScrapeConfigFile;
    config.rule_files = (config.rule_files ?? []).map((glob) => path.resolve(path.dirname(generated), glob));
    for (const job of config.scrape_configs ?? []) {
      const target = job.job_name === "prometheus" ? this.address : this.options.targets?.[job.job_name];
      if (target === undefined) continue;
      for (const staticConfig of job.static_configs ?? []) staticConfig.targets = [target];
    }
    fs.writeFileSync(this.configFile, stringify(config, { lineWidth: 0 }));
  }
}
