import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../services/system-tests/support/processes";
import { Postgres } from "../deps/postgres";
import { portInUse } from "../deps/processes";
import { loadSettings } from "../deps/settings";
import { stackDown, stackPorts, stackUp } from "./stack";

// Starts its own PostgreSQL, which external mode promises never to do.
describe.skipIf(process.env.BLUEPRINT_DEPS === "external")("a stack:up that fails", () => {
  const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-stack-"));
  let postgres: Postgres | undefined;

  afterAll(async () => {
    await postgres?.down();
    fs.rmSync(localDir, { recursive: true, force: true });
    if (postgres) fs.rmSync(postgres.home, { recursive: true, force: true });
  }, 60_000);

  it("When a dependency fails to start after PostgreSQL started, then PostgreSQL is stopped again and stack:down finds nothing left", async () => {
    const [pg, kafka, controller, prometheus] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const settings = loadSettings({
      PATH: process.env.PATH,
      BLUEPRINT_LOCAL_DIR: localDir,
      BLUEPRINT_CACHE_DIR: loadSettings().cacheDir,
      PGPORT: String(pg),
      KAFKA_PORT: String(kafka),
      KAFKA_CONTROLLER_PORT: String(controller),
      PROMETHEUS_PORT: String(prometheus),
    });
    postgres = new Postgres(settings);
    const blocker = net.createServer().listen(kafka, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const lines: string[] = [];
    try {
      await expect(stackUp(settings, stackPorts({}), (line) => lines.push(line))).rejects.toThrow(
        `kafka failed to start: Kafka: port 127.0.0.1:${kafka} is already taken`,
      );
    } finally {
      blocker.close();
    }

    expect(postgres.runningPid()).toBeUndefined();
    expect(await portInUse("127.0.0.1", pg)).toBe(false);
    expect(lines).toContain("stack:up failed; stopping what it started");
    const down: string[] = [];
    await stackDown(settings, stackPorts({}), (line) => down.push(line));
    expect(down.join("\n")).not.toMatch(/left running/);
  }, 120_000);
});
