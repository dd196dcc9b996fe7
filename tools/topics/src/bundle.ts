import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");

/** Everything the bundle is built from: a change to any of them builds a new one. */
const INPUTS = [
  path.join(__dirname, "handler.ts"),
  path.join(__dirname, "provision.ts"),
  path.join(root, "services/service-kit/src/messaging.ts"),
  path.join(root, "package-lock.json"),
];

/**
 * The provisioner bundled into one CommonJS file (kafkajs and the MSK signer with its AWS SDK
 * dependencies included, so nothing depends on the SDK version the Lambda runtime ships), in a
 * folder a `TerraformAsset` zips. Cached under node_modules/.cache by a hash of its inputs, so a
 * synthesis pays for esbuild only when the code or the lockfile changed.
 */
export function topicProvisionerBundle(): string {
  const hash = createHash("sha256");
  for (const file of INPUTS) hash.update(fs.readFileSync(file));
  const outdir = path.join(root, "node_modules/.cache/topic-provisioner", hash.digest("hex").slice(0, 16));
  const outfile = path.join(outdir, "index.js");
  if (fs.existsSync(outfile)) return outdir;
  const staging = `${outdir}.${process.pid}.tmp`;
  // Loaded only when a bundle is built, so a synthesis that finds one in the cache never pays for it.
  const { buildSync } = require("esbuild") as typeof import("esbuild");
  buildSync({
    entryPoints: [path.join(__dirname, "handler.ts")],
    outfile: path.join(staging, "index.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    logLevel: "error",
  });
  // Parallel syntheses (test workers) may race; the rename makes the finished bundle appear whole.
  try {
    fs.renameSync(staging, outdir);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return outdir;
}
