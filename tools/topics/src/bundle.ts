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

/** Zip entries carry this date, so the same code always makes the same archive (and hash). */
const FIXED_MTIME = new Date("2020-01-01T00:00:00Z");

/**
 * The provisioner as a Lambda deployment package: one CommonJS file (kafkajs and the MSK signer with
 * its AWS SDK dependencies included, so nothing depends on the SDK version the Lambda runtime ships)
 * zipped reproducibly. Cached under node_modules/.cache by a hash of its inputs, so a synthesis pays
 * for esbuild and the zip only when the code or the lockfile changed (a `TerraformAsset` of type
 * ARCHIVE would start a zip process per stack on every synthesis). Returns the zip's path.
 */
export function topicProvisionerBundle(): string {
  packaged ??= packageProvisioner();
  return packaged;
}

let packaged: string | undefined;

function packageProvisioner(): string {
  const hash = createHash("sha256");
  for (const file of INPUTS) hash.update(fs.readFileSync(file));
  const outdir = path.join(root, "node_modules/.cache/topic-provisioner", hash.digest("hex").slice(0, 16));
  const archive = path.join(outdir, "topic-provisioner.zip");
  if (fs.existsSync(archive)) return archive;
  const staging = `${outdir}.${process.pid}.tmp`;
  // Loaded only when a bundle is built, so a synthesis that finds one in the cache never pays for it.
  const { buildSync } = require("esbuild") as typeof import("esbuild");
  const { zipSync } = require("fflate") as typeof import("fflate");
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
  const code = fs.readFileSync(path.join(staging, "index.js"));
  fs.writeFileSync(
    path.join(staging, "topic-provisioner.zip"),
    zipSync({ "index.js": [code, { mtime: FIXED_MTIME, level: 9 }] }),
  );
  // Parallel syntheses (test workers) may race; the rename makes the finished bundle appear whole.
  try {
    fs.renameSync(staging, outdir);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return archive;
}
