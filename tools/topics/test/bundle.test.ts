import fs from "node:fs";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { topicProvisionerBundle } from "../src/bundle";

describe("topic provisioner package", () => {
  it("When packaged, then Lambda finds index.handler in a zip that is the same bytes every time", () => {
    const archive = topicProvisionerBundle();
    const entries = unzipSync(fs.readFileSync(archive));
    expect(Object.keys(entries)).toEqual(["index.js"]);
    const code = Buffer.from(entries["index.js"] as Uint8Array).toString("utf8");
    // kafkajs is bundled in, so the runtime needs nothing but the file.
    expect(code).not.toMatch(/require\("kafkajs"\)/);
    const module = { exports: {} as Record<string, unknown> };
    new Function("module", "exports", "require", code)(module, module.exports, require);
    expect(typeof module.exports.handler).toBe("function");
    expect(topicProvisionerBundle()).toBe(archive);
  });
});
