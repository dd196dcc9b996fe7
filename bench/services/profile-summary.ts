import fs from "node:fs";

/*
 * Where a V8 CPU profile (`node --cpu-prof`, written by `BENCH_CPU_PROFILE=<dir> npm run
 * bench:services`) spends its time: self time summed by where the code lives (an npm package, a
 * kit or service source file, Node's internals, the garbage collector, idle), largest first.
 *   tsx bench/services/profile-summary.ts <file.cpuprofile> [top]
 */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The bucket a frame's self time goes to: package name, repository source file, or a V8/Node category. */
export function bucketOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(garbage collector)") return "(garbage collector)";
    if (functionName === "(program)") return "(program)";
    return `(native) ${functionName || "anonymous"}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[1] ?? url.slice(5)}`;
  const repo = /services\/([^/]+\/src\/.+)$/.exec(url);
  return repo ? (repo[1] as string) : url;
}

/** Self time per bucket in ms, and the total sampled time, idle excluded from the shares. */
export function summarize(profile: CpuProfile): { total: number; buckets: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const time = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const bucket = bucketOf(node.callFrame);
    time.set(bucket, (time.get(bucket) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  time.delete("(idle)");
  const buckets = [...time].sort((a, b) => b[1] - a[1]);
  return { total: buckets.reduce((sum, [, ms]) => sum + ms, 0), buckets };
}

if (require.main === module) {
  const [file, top = "25"] = process.argv.slice(2);
  if (!file) {
    console.error("usage: profile-summary.ts <file.cpuprofile> [top]");
    process.exit(2);
  }
  const { total, buckets } = summarize(JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile);
  console.log(`busy ${(total / 1000).toFixed(1)} s`);
  for (const [bucket, ms] of buckets.slice(0, Number(top))) {
    console.log(`${((ms / total) * 100).toFixed(1).padStart(5)}%  ${bucket}`);
  }
}
