import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { JAVA, MAVEN } from "./kafka";
import { type LocalCommand, LocalProcess } from "./local-process";
import { runMaven } from "./maven";
import { ensure } from "./prerequisites";
import { secondsSince } from "./progress";
import type { LocalSettings } from "./settings";

/**
 * Spans the in-memory store keeps (the oldest traces go first): its default, 500,000, does not fit
 * the 256 MB heap, and a benchmark's load would exhaust it.
 */
export const ZIPKIN_MAX_SPANS = 20_000;

/**
 * The SHA-256 of `io.zipkin:zipkin-server:<version>:jar:exec` per version we run. Maven checks the
 * SHA-1 Maven Central publishes beside the jar; this pins the jar itself, so a changed artifact or
 * mirror never runs here.
 */
export const ZIPKIN_JAR_SHA256: Readonly<Record<string, string>> = {
  "3.5.1": "7ac633a6832647e71e50012a5e3e91fbc7054414955261724526030faf271d8d",
};

/** How long one probe of a running server may take: a process that accepts and never answers is not ready. */
const PROBE_TIMEOUT_MS = 2_000;

/** True once the Zipkin server at `url` answers its health check. */
export async function zipkinReady(url: string): Promise<boolean> {
  return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })).ok;
}

/**
 * Moves the downloaded `partial` to `jar` when its SHA-256 is `expected`; otherwise deletes it and
 * throws, so a truncated or altered download is never taken for the jar.
 */
export function installVerified(partial: string, jar: string, expected: string): void {
  const actual = createHash("sha256").update(fs.readFileSync(partial)).digest("hex");
  if (actual !== expected) {
    fs.rmSync(partial, { force: true });
    throw new Error(
      `${path.basename(jar)} has SHA-256 ${actual}, expected ${expected}; the download was deleted`,
    );
  }
  fs.mkdirSync(path.dirname(jar), { recursive: true });
  fs.renameSync(partial, jar);
}

/**
 * The Zipkin server (`io.zipkin:zipkin-server`, its executable jar from Maven Central) with
 * in-memory storage: the services' spans and the trace UI on `/zipkin/`. Started by `deps:up`,
 * `stack:up` and `npm test`, like Kafka, on the same Java.
 */
export class Zipkin extends LocalProcess {
  private readonly jar: string;

  constructor(settings: LocalSettings) {
    super(settings, {
      name: "zipkin",
      title: "Zipkin",
      port: settings.zipkinPort,
      portVariable: "ZIPKIN_PORT",
      prerequisite: JAVA,
      // About 15 s on 2 cores; more while other JVMs start.
      readyTimeoutMs: 90_000,
    });
    this.jar = path.join(settings.cacheDir, `zipkin-${settings.zipkinVersion}`, "zipkin-server-exec.jar");
  }

  protected marker(): string {
    // In the command line as a system property.
    return this.home;
  }

  protected ready(url: string): Promise<boolean> {
    return zipkinReady(url);
  }

  protected async prepare(): Promise<LocalCommand> {
    const { host, zipkinPort, zipkinHeapMb } = this.settings;
    return {
      command: "java",
      args: [
        `-Xmx${zipkinHeapMb}m`,
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        `-Dblueprint.home=${this.home}`,
        "-jar",
        await this.resolveJar(),
        `--armeria.ports[0].port=${zipkinPort}`,
        `--armeria.ports[0].ip=${host}`,
        "--armeria.ports[0].protocols=http",
      ],
      env: { ...process.env, STORAGE_TYPE: "mem", MEM_MAX_SPANS: String(ZIPKIN_MAX_SPANS) },
    };
  }

  /**
   * Fetches the server's executable jar with Maven, once per version, into a partial folder, and
   * moves it into the cache folder only once its SHA-256 matches the pinned one.
   */
  async resolveJar(): Promise<string> {
    if (fs.existsSync(this.jar)) return this.jar;
    const { zipkinVersion, cacheDir } = this.settings;
    const expected = ZIPKIN_JAR_SHA256[zipkinVersion];
    if (expected === undefined) {
      throw new Error(
        `ZIPKIN_VERSION ${zipkinVersion} has no pinned SHA-256; add its exec jar's digest to ZIPKIN_JAR_SHA256 in scripts/deps/zipkin.ts (pinned: ${Object.keys(ZIPKIN_JAR_SHA256).join(", ")})`,
      );
    }
    ensure(MAVEN);
    const what = `fetching the Zipkin server ${zipkinVersion} from Maven Central`;
    const began = Date.now();
    const partial = `${path.dirname(this.jar)}.partial`;
    console.log(`${what} into ${path.dirname(this.jar)}`);
    fs.rmSync(partial, { recursive: true, force: true });
    await runMaven(what, [
      "--strict-checksums",
      `-Dmaven.repo.local=${path.join(cacheDir, "m2")}`,
      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
      `-Dartifact=io.zipkin:zipkin-server:${zipkinVersion}:jar:exec`,
      `-DoutputDirectory=${partial}`,
      "-Dmdep.stripVersion=true",
      "-Dmdep.stripClassifier=false",
    ]);
    installVerified(path.join(partial, path.basename(this.jar)), this.jar, expected);
    fs.rmSync(partial, { recursive: true, force: true });
    console.log(`fetched the Zipkin server ${zipkinVersion} in ${secondsSince(began)}s`);
    return this.jar;
  }
}
