import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { SERVICES } from "@blueprint/service-kit/catalog";
import type { Dependency } from "./dependency";
import { aptInstall, which } from "./prerequisites";
import { assertPortFree, runningPid, spawnDetached, stopPid, tail, waitUntil } from "./processes";
import type { LocalSettings } from "./settings";

/** Prometheus from Debian's `prometheus` package, scraping the locally running services. */
export class Prometheus implements Dependency {
  readonly name = "prometheus";
  readonly address: string;
  private readonly home: string;
  private readonly configFile: string;
  private readonly logFile: string;
  private readonly pidFile: string;

  constructor(private readonly settings: LocalSettings) {
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
    if (this.runningPid() !== undefined) return false;
    await assertPortFree("Prometheus", this.settings.host, this.settings.prometheusPort, "PROMETHEUS_PORT");
    if (!which("prometheus") || !which("promtool")) {
      aptInstall(["prometheus"], "prometheus and promtool are missing");
    }
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
    await waitUntil("Prometheus", async () => (await fetch(`http://${this.address}/-/ready`)).ok, {
      timeoutMs: 60_000,
      stillRunning: () => this.runningPid() === pid,
      describe: () => tail(this.logFile),
    });
    return true;
  }

  async down(): Promise<void> {
    const pid = this.runningPid();
    if (pid === undefined) return;
    await stopPid(pid, 15_000);
    fs.rmSync(this.pidFile, { force: true });
  }

  private writeConfig(): void {
    fs.mkdirSync(path.join(this.home, "data"), { recursive: true });
    const jobs = SERVICES.map(
      (s) =>
        `  - job_name: ${s.name}\n    static_configs:\n      - targets: ["${this.settings.host}:${s.port}"]\n        labels: { service: ${s.name}, env: local }`,
    );
    const yaml = [
      "global:",
      "  scrape_interval: 5s",
      "  evaluation_interval: 5s",
      "scrape_configs:",
      "  - job_name: prometheus",
      "    static_configs:",
      `      - targets: ["${this.address}"]`,
      ...jobs,
      "",
    ].join("\n");
    fs.writeFileSync(this.configFile, yaml);
  }
}
