import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../deps/settings";
import { describeStack, stackPorts } from "./stack";

const servers: net.Server[] = [];
const listen = (server: net.Server, ...args: unknown[]) =>
  new Promise<void>((resolve) => {
    servers.push(server);
    (server.listen as (...a: unknown[]) => void)(...args, resolve);
  });

describe("the closing message of stack:up", () => {
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it("When external PostgreSQL is an IPv6 address or a socket folder, then its row says whether it listens instead of failing", async () => {
    const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-socket-"));
    await listen(net.createServer(), path.join(socketDir, ".s.PGSQL.5999"));
    const line = async (pghost: string) => {
      const settings = loadSettings({ BLUEPRINT_DEPS: "external", PGHOST: pghost, PGPORT: "5999" });
      const text = await describeStack(settings, stackPorts({}));
      return text.split("\n").find((l) => l.includes("PostgreSQL"));
    };
    try {
      expect(await line("::1")).toMatch(/PostgreSQL +down +::1:5999/);
      expect(await line(socketDir)).toMatch(new RegExp(`PostgreSQL +up +${socketDir}:5999`));
    } finally {
      fs.rmSync(socketDir, { recursive: true, force: true });
    }
  });

  it("When Kafka and Prometheus listen at external addresses, then their rows say up", async () => {
    const kafka = net.createServer();
    const prometheus = net.createServer();
    await listen(kafka, 0, "127.0.0.1");
    await listen(prometheus, 0, "127.0.0.1");
    const port = (s: net.Server) => (s.address() as net.AddressInfo).port;
    const settings = loadSettings({
      BLUEPRINT_DEPS: "external",
      KAFKA_BROKERS: `127.0.0.1:${port(kafka)}`,
      PROMETHEUS_URL: `http://127.0.0.1:${port(prometheus)}/`,
    });
    const text = await describeStack(settings, stackPorts({}));
    expect(text).toMatch(new RegExp(`Kafka +up +127\\.0\\.0\\.1:${port(kafka)}`));
    expect(text).toMatch(new RegExp(`Prometheus +up +http://127\\.0\\.0\\.1:${port(prometheus)}`));
  });
});
