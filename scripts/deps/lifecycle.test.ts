import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { downAll, localDependencies, upAll } from "./registry";
import { loadSettings } from "./settings";

// A second, isolated set of dependencies on other ports and folders, so this test never touches
// the instances the test command itself runs on the default ports.
const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-deps-"));
const settings = loadSettings({
  ...process.env,
  BLUEPRINT_LOCAL_DIR: localDir,
  BLUEPRINT_CACHE_DIR: loadSettings().cacheDir,
  PGPORT: "55432",
  KAFKA_PORT: "59092",
  KAFKA_CONTROLLER_PORT: "59093",
  PROMETHEUS_PORT: "59090",
});
const deps = localDependencies(settings);
const ports = [
  settings.postgresPort,
  settings.kafkaPort,
  settings.kafkaControllerPort,
  settings.prometheusPort,
];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("local dependency lifecycle", () => {
  afterAll(async () => {
    await downAll(deps, () => undefined);
    fs.rmSync(localDir, { recursive: true, force: true });
  });

  it("When deps are brought up twice and then down, then the second up reuses them and down frees every port", async () => {
    const first = await upAll(deps, () => undefined);
    expect(first.map((d) => d.name)).toEqual(["postgres", "kafka", "prometheus"]);
    const pids = deps.map((d) => d.runningPid());
    expect(pids.every((p) => p !== undefined)).toBe(true);
    for (const port of ports) expect(await portOpen(port)).toBe(true);

    const second = await upAll(deps, () => undefined);
    expect(second).toEqual([]);
    expect(deps.map((d) => d.runningPid())).toEqual(pids);

    await downAll(deps, () => undefined);
    for (const port of ports) expect(await portOpen(port)).toBe(false);
    for (const pid of pids) {
      const alive = spawnSync("kill", ["-0", String(pid)]).status === 0;
      const state = alive ? fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] : "gone";
      expect(["gone", "Z"]).toContain(state);
    }
    expect(deps.map((d) => d.runningPid())).toEqual([undefined, undefined, undefined]);
  }, 180_000);

  it("When a port is taken by another program, then up fails naming the port, the holder and the variable to change", async () => {
    const blocker = net.createServer().listen(settings.kafkaPort, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    try {
      const kafka = deps.find((d) => d.name === "kafka");
      await expect(kafka?.up()).rejects.toThrow(
        /port 127\.0\.0\.1:59092 is already taken by node \(pid \d+\)\. Stop that process or choose another port with KAFKA_PORT=<port>\./,
      );
    } finally {
      blocker.close();
    }
  });

  it("When a port variable is not a port, then settings fail naming the variable and the value", () => {
    expect(() => loadSettings({ PGPORT: "54x" })).toThrow(
      'PGPORT must be a TCP port between 1 and 65535, got "54x"',
    );
  });
});
