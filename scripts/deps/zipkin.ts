import fs from "node:fs";
import path from "node:path";
import type { Dependency } from "./dependency";
import { JAVA, MAVEN } from "./kafka";
import { runMaven } from "./maven";
import { ensure } from "./prerequisites";
import { assertPortFree, reusable, runningPid, spawnDetached, stopPid, tail, waitUntil } from "./processes";
import { secondsSince } from "./progress";
import type { LocalSettings } from "./settings";

/**
 * Spans the in-memory store keeps (the oldest traces go first): its default, 500,000, does not fit
 * the 256 MB heap, and a benchmark's load would exhaust it.
 */
export const ZIPKIN_MAX_SPANS = 20_000;

/** True once the Zipkin server at `url` answers its health check. */
export async function zipkinReady(url: string): Promise<boolean> {
  return (await fetch(`${url}/health`)).ok;
}

/**
 * The Zipkin server (`io.zipkin:zipkin-server`, its executable jar from Maven Central) with
 * in-memory storage: the services' spans and the trace UI on `/zipkin/`. Started by `deps:up`,
 * `stack:up` and `npm test`, like Kafka, on the same Java.
 */
export class Zipkin implements Dependency {
  readonly name = "zipkin";
  readonly managed = true;
  readonly address: string;
  readonly runDir: string;
  private readonly home: string;
  private readonly jar: string;
  private readonly logFile: string;
  private readonly pidFile: string;

  constructor(private readonly settings: LocalSettings) {
    this.runDir = settings.runDir;
    this.address = `${settings.host}:${settings.zipkinPort}`;
    this.home = path.join(settings.localDir, "zipkin");
    this.jar = path.join(settings.cacheDir, `zipkin-${settings.zipkinVersion}`, "zipkin-server-exec.jar");
    this.logFile = path.join(settings.logDir, "zipkin.log");
    this.pidFile = path.join(settings.runDir, "zipkin.pid");
  }

  runningPid(): number | undefined {
    // The home folder is in the command line (a system property) and is this checkout's own.
    return runningPid({ pidFile: this.pidFile, marker: this.home });
  }

  async up(): Promise<boolean> {
    const ready = () => zipkinReady(`http://${this.address}`);
    const describe = () => tail(this.logFile);
    if (await reusable("Zipkin", () => this.runningPid(), ready, { timeoutMs: 60_000, describe }))
      return false;
    const { host, zipkinPort, zipkinHeapMb } = this.settings;
    await assertPortFree("Zipkin", host, zipkinPort, "ZIPKIN_PORT");
    ensure(JAVA);
    await this.resolveJar();
    fs.mkdirSync(this.home, { recursive: true });
    const pid = spawnDetached(
      "java",
      [
        `-Xmx${zipkinHeapMb}m`,
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        `-Dblueprint.home=${this.home}`,
        "-jar",
        this.jar,
        `--armeria.ports[0].port=${zipkinPort}`,
        `--armeria.ports[0].ip=${host}`,
        "--armeria.ports[0].protocols=http",
      ],
      {
        logFile: this.logFile,
        pidFile: this.pidFile,
        env: { ...process.env, STORAGE_TYPE: "mem", MEM_MAX_SPANS: String(ZIPKIN_MAX_SPANS) },
      },
    );
    await waitUntil("Zipkin", ready, {
      timeoutMs: 90_000,
      intervalMs: 500,
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
   * Fetches the server's executable jar with Maven, once per version, into the cache folder; Maven
   * verifies it against Maven Central's checksum and fails on a mismatch.
   */
  async resolveJar(): Promise<string> {
    if (fs.existsSync(this.jar)) return this.jar;
    ensure(MAVEN);
    const { zipkinVersion, cacheDir } = this.settings;
    const what = `fetching the Zipkin server ${zipkinVersion} from Maven Central`;
    const began = Date.now();
    const folder = path.dirname(this.jar);
    console.log(`${what} into ${folder}`);
    fs.rmSync(folder, { recursive: true, force: true });
    await runMaven(what, [
      "--strict-checksums",
      `-Dmaven.repo.local=${path.join(cacheDir, "m2")}`,
      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
      `-Dartifact=io.zipkin:zipkin-server:${zipkinVersion}:jar:exec`,
      `-DoutputDirectory=${folder}`,
      "-Dmdep.stripVersion=true",
      "-Dmdep.stripClassifier=false",
    ]);
    // Renamed only once complete, so an interrupted fetch is never taken for a jar.
    fs.renameSync(path.join(folder, "zipkin-server-exec.jar"), this.jar);
    console.log(`fetched the Zipkin server ${zipkinVersion} in ${secondsSince(began)}s`);
    return this.jar;
  }
}
