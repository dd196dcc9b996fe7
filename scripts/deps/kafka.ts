import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Dependency } from "./dependency";
import { clusterReady } from "./kafka-admin";
import { runMaven } from "./maven";
import { ensure, javaMajorVersion, type Prerequisite, which } from "./prerequisites";
import { assertPortFree, reusable, runningPid, spawnDetached, stopPid, tail, waitUntil } from "./processes";
import { secondsSince } from "./progress";
import { provisionTopics } from "./provisioning";
import type { LocalSettings } from "./settings";

const EXTERNAL_KAFKA = "KAFKA_BROKERS";

/**
 * The Debian package that brings Java 17 or newer: `default-jre-headless` where the default Java is
 * new enough (Debian 12+, Ubuntu 24.04+), else `openjdk-17-jre-headless` (Ubuntu 22.04's default is 11).
 * `aptCacheDepends` is `apt-cache depends default-jre-headless`, when apt-cache ran.
 */
export function javaAptPackage(aptCacheDepends: string | undefined): string {
  const major = Number(aptCacheDepends?.match(/Depends: openjdk-(\d+)-jre-headless/)?.[1]);
  return Number.isInteger(major) && major < 17 ? "openjdk-17-jre-headless" : "default-jre-headless";
}

export const JAVA: Prerequisite = {
  what: "Java 17 or newer (Kafka runs on it)",
  get aptPackage() {
    const depends = spawnSync("apt-cache", ["depends", "default-jre-headless"], { encoding: "utf8" });
    return javaAptPackage(depends.status === 0 ? depends.stdout : undefined);
  },
  brewFormula: "openjdk@17",
  brewKegOnly: true,
  externalVariables: EXTERNAL_KAFKA,
  isPresent: () => (javaMajorVersion() ?? 0) >= 17,
  state: () => {
    const major = javaMajorVersion();
    return major === undefined ? "missing" : `too old (java -version reports ${major})`;
  },
};

export const MAVEN: Prerequisite = {
  what: "Maven (fetches Kafka from Maven Central once)",
  aptPackage: "maven",
  brewFormula: "maven",
  externalVariables: EXTERNAL_KAFKA,
  isPresent: () => which("mvn") !== undefined,
};

/** One Kafka broker in KRaft mode (combined broker and controller), from Maven Central artifacts. */
export class KafkaBroker implements Dependency {
  readonly name = "kafka";
  readonly managed = true;
  readonly address: string;
  readonly runDir: string;
  private readonly home: string;
  private readonly libs: string;
  private readonly configFile: string;
  private readonly logFile: string;
  private readonly pidFile: string;

  constructor(private readonly settings: LocalSettings) {
    this.runDir = settings.runDir;
    this.address = `${settings.host}:${settings.kafkaPort}`;
    this.home = path.join(settings.localDir, "kafka");
    this.libs = path.join(settings.cacheDir, `kafka-${settings.kafkaVersion}`, "libs");
    this.configFile = path.join(this.home, "server.properties");
    this.logFile = path.join(settings.logDir, "kafka.log");
    this.pidFile = path.join(settings.runDir, "kafka.pid");
  }

  runningPid(): number | undefined {
    return runningPid({ pidFile: this.pidFile, marker: this.configFile });
  }

  async up(): Promise<boolean> {
    const ready = () => clusterReady([this.address]);
    const describe = () => tail(this.logFile);
    if (await reusable("Kafka", () => this.runningPid(), ready, { timeoutMs: 90_000, describe })) {
      await provisionTopics([this.address]);
      return false;
    }
    await assertPortFree("Kafka", this.settings.host, this.settings.kafkaPort, "KAFKA_PORT");
    await assertPortFree(
      "Kafka controller",
      this.settings.host,
      this.settings.kafkaControllerPort,
      "KAFKA_CONTROLLER_PORT",
    );
    ensure(JAVA);
    await this.resolveArtifacts();
    this.writeConfig();
    this.formatStorage();
    const pid = spawnDetached(
      "java",
      [
        `-Xms${Math.min(256, this.settings.kafkaHeapMb)}m`,
        `-Xmx${this.settings.kafkaHeapMb}m`,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j.configuration=file:${path.join(this.home, "log4j.properties")}`,
        "-cp",
        path.join(this.libs, "*"),
        "kafka.Kafka",
        this.configFile,
      ],
      { logFile: this.logFile, pidFile: this.pidFile },
    );
    await waitUntil("Kafka", ready, {
      timeoutMs: 90_000,
      intervalMs: 500,
      stillRunning: () => this.runningPid() === pid,
      describe,
    });
    await provisionTopics([this.address]);
    return true;
  }

  async down(): Promise<void> {
    const pid = this.runningPid();
    if (pid === undefined) return;
    await stopPid(pid, 30_000);
    fs.rmSync(this.pidFile, { force: true });
  }

  /** Resolves the broker's classpath with Maven, once per version, into the cache folder; returns that folder. */
  async resolveArtifacts(): Promise<string> {
    const complete = path.join(this.libs, ".complete");
    if (fs.existsSync(complete)) return this.libs;
    ensure(MAVEN);
    const what = `resolving Apache Kafka ${this.settings.kafkaVersion} from Maven Central`;
    const began = Date.now();
    console.log(`${what} into ${this.libs}`);
    fs.rmSync(this.libs, { recursive: true, force: true });
    await runMaven(what, [
      "-f",
      path.join(__dirname, "kafka-runtime", "pom.xml"),
      `-Dkafka.version=${this.settings.kafkaVersion}`,
      `-Dmaven.repo.local=${path.join(this.settings.cacheDir, "m2")}`,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${this.libs}`,
      "-DincludeScope=runtime",
    ]);
    fs.writeFileSync(complete, "");
    console.log(`resolved Apache Kafka ${this.settings.kafkaVersion} in ${secondsSince(began)}s`);
    return this.libs;
  }

  private writeConfig(): void {
    const { host, kafkaPort, kafkaControllerPort } = this.settings;
    fs.mkdirSync(path.join(this.home, "data"), { recursive: true });
    const properties = {
      "process.roles": "broker,controller",
      "node.id": "1",
      "controller.quorum.voters": `1@${host}:${kafkaControllerPort}`,
      listeners: `PLAINTEXT://${host}:${kafkaPort},CONTROLLER://${host}:${kafkaControllerPort}`,
      "advertised.listeners": `PLAINTEXT://${host}:${kafkaPort}`,
      "controller.listener.names": "CONTROLLER",
      "inter.broker.listener.name": "PLAINTEXT",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "log.dirs": path.join(this.home, "data"),
      "auto.create.topics.enable": "false",
      "num.partitions": "3",
      "offsets.topic.replication.factor": "1",
      "offsets.topic.num.partitions": "10",
      "transaction.state.log.replication.factor": "1",
      "transaction.state.log.min.isr": "1",
      "group.initial.rebalance.delay.ms": "0",
      "log.retention.hours": "24",
    };
    fs.writeFileSync(
      this.configFile,
      `${Object.entries(properties)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n")}\n`,
    );
    fs.writeFileSync(
      path.join(this.home, "log4j.properties"),
      [
        "log4j.rootLogger=INFO, stdout",
        "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
        "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
        "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
        "log4j.logger.kafka.request.logger=WARN",
        "log4j.logger.state.change.logger=WARN",
        "",
      ].join("\n"),
    );
  }

  private formatStorage(): void {
    if (fs.existsSync(path.join(this.home, "data", "meta.properties"))) return;
    formatKafkaStorage(this.libs, this.configFile, randomBytes(16).toString("base64url"));
  }
}

/**
 * Formats the log folders `configFile` names as a new cluster. The id goes in the `--cluster-id=`
 * form: a random base64url id starts with `-` one time in 64, and as a separate argument
 * StorageTool would take it for an option and fail.
 */
export function formatKafkaStorage(libs: string, configFile: string, clusterId: string): void {
  const result = spawnSync(
    "java",
    [
      "-cp",
      path.join(libs, "*"),
      "kafka.tools.StorageTool",
      "format",
      `--cluster-id=${clusterId}`,
      "-c",
      configFile,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0)
    throw new Error(`formatting Kafka storage failed: ${result.stderr || result.stdout}`);
}
