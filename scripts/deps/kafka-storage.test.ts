import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatKafkaStorage, KafkaBroker } from "./kafka";
import { loadSettings } from "./settings";

// Runs Kafka's own StorageTool, which external mode may not have installed.
describe.skipIf(process.env.BLUEPRINT_DEPS === "external")("formatting Kafka's storage", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-kafka-format-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("When the random cluster id starts with '-', then formatting still succeeds and keeps that id", async () => {
    const libs = await new KafkaBroker(loadSettings()).resolveArtifacts();
    const logDir = path.join(dir, "data");
    const config = path.join(dir, "server.properties");
    fs.writeFileSync(
      config,
      [
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@127.0.0.1:9",
        "controller.listener.names=CONTROLLER",
        "listeners=PLAINTEXT://127.0.0.1:8,CONTROLLER://127.0.0.1:9",
        `log.dirs=${logDir}`,
        "",
      ].join("\n"),
    );
    const clusterId = "-Mq3bX8tTaa1kVw2sJ0c2g"; // 16 random bytes in base64url, as generated

    formatKafkaStorage(libs, config, clusterId);

    expect(fs.readFileSync(path.join(logDir, "meta.properties"), "utf8")).toContain(
      `cluster.id=${clusterId}`,
    );
  }, 120_000);
});
