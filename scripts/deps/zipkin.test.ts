import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installVerified, zipkinReady } from "./zipkin";

describe("the Zipkin server's jar and readiness", () => {
  let dir: string;
  /** Accepts connections and never answers, as a hung server does. */
  const silent = net.createServer(() => undefined);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zipkin-jar-"));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    silent.close();
  });

  it("When the download's SHA-256 differs from the pinned one, then it is deleted, no jar is installed and the error names both digests", () => {
    const partial = path.join(dir, "bad.partial");
    const jar = path.join(dir, "cache", "bad.jar");
    fs.writeFileSync(partial, "truncated");
    const expected = "0".repeat(64);
    const actual = createHash("sha256").update("truncated").digest("hex");

    expect(() => installVerified(partial, jar, expected)).toThrow(
      `bad.jar has SHA-256 ${actual}, expected ${expected}; the download was deleted`,
    );
    expect(fs.existsSync(jar)).toBe(false);
    expect(fs.existsSync(partial)).toBe(false);
  });

  it("When the download's SHA-256 matches, then it becomes the jar", () => {
    const partial = path.join(dir, "good.partial");
    const jar = path.join(dir, "cache", "good.jar");
    fs.writeFileSync(partial, "complete");

    installVerified(partial, jar, createHash("sha256").update("complete").digest("hex"));

    expect(fs.readFileSync(jar, "utf8")).toBe("complete");
    expect(fs.existsSync(partial)).toBe(false);
  });

  it("When a server accepts the connection and never answers, then the ready probe gives up within about 2 s", async () => {
    const { port } = silent.address() as net.AddressInfo;
    const began = Date.now();

    await expect(zipkinReady(`http://127.0.0.1:${port}`)).rejects.toThrow(/timeout|aborted/i);

    expect(Date.now() - began).toBeLessThan(3_000);
  }, 10_000);
});
