import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SYNTH_APP } from "../synth/app-command";
import { measure, type ProcessRun } from "./process-sampler";

// `npm run bench:synth`: wall time and peak RSS of synthesizing every environment, through the app
// alone and through the cdktf CLI, and the resource count per stack. Targets (2 cores): app <= 3 s, <= 400 MiB.
const root = path.resolve(__dirname, "../..");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_SECONDS = 3;
const TARGET_MIB = 400;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function series(
  label: string,
  command: string,
  args: (outdir: string) => string[],
): Promise<{ label: string; runs: ProcessRun[] }> {
  const results: ProcessRun[] = [];
  for (let i = 0; i < runs; i++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
    const run = await measure(
      command,
      args(outdir),
      {
        ...process.env,
        CDKTF_OUTDIR: outdir,
        CHECKPOINT_DISABLE: "1",
      },
      root,
    );
    fs.rmSync(outdir, { recursive: true, force: true });
    if (run.exitCode !== 0) throw new Error(`${label} failed with exit code ${run.exitCode}`);
    results.push(run);
  }
  return { label, runs: results };
}

async function main(): Promise<void> {
  const cdktf = path.join(root, "node_modules/.bin/cdktf");
  const app = await series(`app alone (${SYNTH_APP.app})`, SYNTH_APP.command, () => [...SYNTH_APP.args]);
  const cli = await series("cdktf synth (CLI)", cdktf, (outdir) => ["synth", "--output", outdir]);

  console.log(
    `\nSynthesis of every environment, ${runs} runs each, median wall time and peak RSS (process tree)\n`,
  );
  console.log("| how | wall time (s) | peak RSS (MiB) | target |");
  console.log("| --- | ---: | ---: | --- |");
  for (const { label, runs: rs } of [app, cli]) {
    const wall = median(rs.map((r) => r.wallSeconds));
    const rss = Math.max(...rs.map((r) => r.peakRssMiB));
    const target =
      label === app.label
        ? `<= ${TARGET_SECONDS} s, <= ${TARGET_MIB} MiB: ${wall <= TARGET_SECONDS && rss <= TARGET_MIB ? "met" : "MISSED"}`
        : "informational";
    console.log(`| ${label} | ${wall.toFixed(2)} | ${rss.toFixed(0)} | ${target} |`);
  }

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-count-"));
  await measure(SYNTH_APP.command, SYNTH_APP.args, { ...process.env, CDKTF_OUTDIR: outdir }, root);
  console.log("\n| stack | resources | data sources | outputs |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const stack of fs.readdirSync(path.join(outdir, "stacks")).sort()) {
    const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
    const count = (section: Record<string, Record<string, unknown>> = {}) =>
      Object.values(section).reduce((n, byId) => n + Object.keys(byId).length, 0);
    console.log(
      `| ${stack} | ${count(json.resource)} | ${count(json.data)} | ${Object.keys(json.output ?? {}).length} |`,
    );
  }
  fs.rmSync(outdir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
