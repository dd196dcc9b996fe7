import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeStaleServicePolicy, withServiceStartsSuppressed } from "./service-policy";

const scratch: string[] = [];
function policyPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-policy-"));
  scratch.push(dir);
  return path.join(dir, "policy-rc.d");
}

const FOREIGN = "#!/bin/sh\n# the image's own policy\nexit 101\n";
/** What a run that was killed (its pid gone) left behind. */
const STALE =
  "#!/bin/sh\n# written by blueprint scripts/deps while it installs packages; pid 999999999\nexit 101\n";

describe("keeping package services from starting during apt-get", () => {
  afterEach(() => {
    for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("When packages are installed, then the policy says exit 101 during the install and is gone afterwards, also when the install fails", () => {
    const file = policyPath();
    let during = "";
    withServiceStartsSuppressed(() => {
      during = fs.readFileSync(file, "utf8");
    }, file);
    expect(during).toMatch(/^exit 101$/m);
    expect(fs.existsSync(file)).toBe(false);

    expect(() =>
      withServiceStartsSuppressed(() => {
        throw new Error("apt-get failed");
      }, file),
    ).toThrow("apt-get failed");
    expect(fs.existsSync(file)).toBe(false);
  });

  it("When a policy that is not ours is in place, then it is used and left exactly as it was", () => {
    const file = policyPath();
    fs.writeFileSync(file, FOREIGN);
    withServiceStartsSuppressed(() => undefined, file);
    removeStaleServicePolicy(file);
    expect(fs.readFileSync(file, "utf8")).toBe(FOREIGN);
  });

  it("When an interrupted run left its policy behind, then the next run removes it", () => {
    const file = policyPath();
    fs.writeFileSync(file, STALE);
    removeStaleServicePolicy(file);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("When Ctrl-C interrupts apt-get, then the policy is removed and the run ends by the signal", async () => {
    const file = policyPath();
    const module = path.join(__dirname, "service-policy.ts");
    // `sleep` stands in for apt-get; both get the Ctrl-C, as the terminal sends it to the process group.
    const script = `require(${JSON.stringify(module)}).withServiceStartsSuppressed(() => require("node:child_process").spawnSync("sleep", ["30"]), ${JSON.stringify(file)});`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], {
      detached: true,
      stdio: "ignore",
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_, signal) => resolve(signal)),
    );
    const began = Date.now();
    const installing = () => spawnSync("pgrep", ["-x", "-P", String(child.pid), "sleep"]).status === 0;
    while (!installing() && Date.now() - began < 20_000) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(file)).toBe(true);

    process.kill(-(child.pid as number), "SIGINT");

    expect(await exited).toBe("SIGINT");
    expect(fs.existsSync(file)).toBe(false);
  });
});
