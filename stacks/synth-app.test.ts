import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { selectEnvironments } from "../environments";
import { parse } from "../modules/testing/synth";
import { SYNTH_APP } from "../scripts/synth/app-command";
import { synthAll } from "./synth-all";

describe("the app cdktf synth runs", () => {
  it("When cdktf.json's app synthesizes prod, then it writes the Terraform the tests check, stack by stack", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-app-"));
    try {
      execFileSync(SYNTH_APP.command, SYNTH_APP.args, {
        cwd: SYNTH_APP.cwd,
        env: { ...process.env, CDKTF_OUTDIR: outdir, BLUEPRINT_ENVS: "prod" },
        stdio: ["ignore", "ignore", "inherit"],
      });
      const expected = synthAll(selectEnvironments("prod"));
      const written = fs.readdirSync(path.join(outdir, "stacks")).sort();
      expect(written).toEqual([...expected.keys()].sort());
      for (const id of written) {
        const json = parse(fs.readFileSync(path.join(outdir, "stacks", id, "cdk.tf.json"), "utf8"));
        expect(json, id).toEqual(expected.get(id));
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
