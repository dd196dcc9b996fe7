import { describe, expect, it } from "vitest";
import type { Dependency } from "./dependency";
import { localDependencies, startedSince } from "./registry";
import { loadSettings } from "./settings";

function fake(name: string, pid: number | undefined, managed = true): Dependency & { pid?: number } {
  return {
    name,
    address: "127.0.0.1:1",
    managed,
    pid,
    runningPid() {
      return this.pid;
    },
    up: async () => true,
    down: async () => undefined,
  };
}

describe("an interrupted start", () => {
  it("When upAll is interrupted, then what runs now but did not before is ours to stop, reused and external ones are not", () => {
    const reused = fake("postgres", 10);
    const kafka = fake("kafka", undefined);
    const prometheus = fake("prometheus", undefined);
    const external = fake("external", undefined, false);
    const deps = [reused, kafka, prometheus, external];
    const before = new Set(deps.filter((d) => d.runningPid() !== undefined));

    kafka.pid = 20; // started, but upAll was still waiting for it to be ready

    expect(startedSince(deps, before).map((d) => d.name)).toEqual(["kafka"]);
  });
});

describe("external-mode variables in local mode", () => {
  it("When KAFKA_BROKERS, PROMETHEUS_URL, ZIPKIN_URL, PGSUPERUSER or PGSUPERPASSWORD is set without BLUEPRINT_DEPS=external, then one warning names them as ignored", () => {
    const env = { KAFKA_BROKERS: "kafka:9092", PGSUPERUSER: "admin", PGHOST: "db" };
    const warnings: string[] = [];
    const warn = (line: string) => warnings.push(line);

    localDependencies(loadSettings(env), warn);
    localDependencies(loadSettings(env), warn);
    localDependencies(loadSettings({ ...env, BLUEPRINT_DEPS: "external" }), warn);

    expect(warnings).toEqual([
      "warning: KAFKA_BROKERS, PGSUPERUSER are set but ignored unless BLUEPRINT_DEPS=external; the local instances on 127.0.0.1 are used.",
    ]);
  });
});
