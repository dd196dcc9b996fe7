import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onPath } from "../../../scripts/test/terraform";
import { fixture, runCli } from "./helpers";

/**
 * The drift workflow's metric publishing, end to end except for SigV4: the script's Prometheus
 * agent remote-writes to a real Prometheus started here with the remote-write receiver on.
 */
const script = path.resolve(__dirname, "../../../.github/scripts/publish-drift-metrics.sh");
const ready = Boolean(onPath("prometheus") && onPath("python3") && onPath("curl"));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let receiver: ChildProcess | undefined;
let receiverPort = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-publish-"));

beforeAll(async () => {
  if (!ready) return;
  receiverPort = await freePort();
  fs.writeFileSync(path.join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1m\n");
  receiver = spawn(
    "prometheus",
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${receiverPort}`,
      "--web.enable-remote-write-receiver",
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`http://127.0.0.1:${receiverPort}/-/ready`).catch(() => undefined);
    if (res?.ok) return;
    await sleep(500);
  }
  throw new Error("the receiving Prometheus did not become ready");
}, 60_000);

afterAll(() => {
  receiver?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ready)("publishing drift metrics", () => {
  it("When the script publishes a report's metrics, then Prometheus holds every series with its labels", async () => {
    const metrics = path.join(dir, "metrics.prom");
    const { code } = runCli([
      "--plan",
      fixture("drift.json"),
      "--format",
      "prometheus",
      "--env",
      "dev",
      "--stack",
      "dev-data",
      "--output",
      metrics,
    ]);
    expect(code).toBe(2);
    const result = spawnSync("bash", [script, metrics, `http://127.0.0.1:${receiverPort}/api/v1/write`], {
      encoding: "utf8",
      env: {
        ...process.env,
        PUBLISH_FILE_PORT: String(await freePort()),
        PUBLISH_AGENT_PORT: String(await freePort()),
        PUBLISH_TIMEOUT_SECONDS: "60",
      },
    });
    expect(result.stdout + result.stderr).toContain("published 5 samples");
    expect(result.status).toBe(0);

    const query = async (q: string) => {
      const res = await fetch(`http://127.0.0.1:${receiverPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      return (
        (await res.json()) as {
          data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        }
      ).data.result;
    };
    const series = await query("terraform_drift_resources");
    expect(series.map((s) => [s.metric.env, s.metric.stack, s.metric.severity, s.value[1]]).sort()).toEqual([
      ["dev", "dev-data", "critical", "1"],
      ["dev", "dev-data", "high", "1"],
      ["dev", "dev-data", "low", "1"],
      ["dev", "dev-data", "medium", "1"],
    ]);
    expect((await query("terraform_drift_last_run_timestamp_seconds"))[0]?.value[1]).toBe("1772431200");
    expect(await query("up")).toEqual([]);
  }, 90_000);
});
