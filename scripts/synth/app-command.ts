import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../..");
const app = (JSON.parse(fs.readFileSync(path.join(root, "cdktf.json"), "utf8")) as { app: string }).app;

/**
 * The synthesis command `cdktf synth` runs (cdktf.json's `app`), as the CLI runs it: through a
 * shell, in the repository root. The benchmark, checkov and the tests run this, never a variant of
 * their own, so they measure and check what users run.
 */
export const SYNTH_APP: {
  readonly app: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
} = { app, command: "/bin/sh", args: ["-c", app], cwd: root };
