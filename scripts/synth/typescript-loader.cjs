"use strict";
/**
 * Loads the synthesis app's TypeScript for `cdktf synth` and `npm run synth:app`
 * (`node --require ./scripts/synth/typescript-loader.cjs --conditions=development main.ts`).
 *
 * Each `.ts` file is transpiled by esbuild (types stripped, CommonJS, the tsconfig's class-field
 * semantics) and kept under `node_modules/.cache/synth-typescript` (`$SYNTH_TS_CACHE_DIR` instead,
 * when set), keyed by a hash of its source, the esbuild version and the options, so a synthesis only
 * transpiles what changed. A cache that cannot be written (read-only node_modules, full disk) only
 * costs the transpiling again. Two costs of a
 * general loader (tsx) are left out: lexing every JavaScript file it loads (the provider classes are
 * large) and source maps, which Node applies to every stack trace cdktf captures for each token.
 * Together they were about 1.5 s of a 3 s synthesis. `NODE_OPTIONS=--enable-source-maps` brings
 * source-mapped stack traces back, at that price.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const { compilerOptions } = require("./tsconfig.cjs");

const root = path.resolve(__dirname, "../..");
const cacheDir = process.env.SYNTH_TS_CACHE_DIR || path.join(root, "node_modules/.cache/synth-typescript");

// Node 22.1 and later can keep V8's compiled code of every module loaded from here on (cdktf and
// the provider classes are most of the start-up); Node 20 has no such cache and skips this. A
// directory it cannot create only leaves the cache off.
Module.enableCompileCache?.(path.join(cacheDir, "..", "synth-compile"));

const options = {
  loader: "ts",
  format: "cjs",
  target: `node${process.versions.node.split(".")[0]}`,
  sourcemap: process.sourceMapsEnabled ? "inline" : false,
  tsconfigRaw: { compilerOptions: compilerOptions(path.join(root, "tsconfig.json")) },
};
const esbuildVersion = JSON.parse(
  fs.readFileSync(path.join(root, "node_modules/esbuild/package.json"), "utf8"),
).version;
const optionsKey = `${esbuildVersion}\0${JSON.stringify(options)}\0`;

function transpile(source, filename) {
  const key = crypto.createHash("sha256").update(optionsKey).update(filename).update(source).digest("hex");
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // Not transpiled yet: below.
  }
  // Required only on a cache miss: starting esbuild's service costs more than reading the cache.
  const { transformSync } = require("esbuild");
  const { code } = transformSync(source, { ...options, sourcefile: filename });
  // Written aside under a name of its own and renamed, so a concurrent synthesis never reads half a file.
  const partial = `${cached}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
  } catch {
    return code;
  }
  try {
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, cached);
  } catch {
    fs.rmSync(partial, { force: true });
  }
  return code;
}

Module._extensions[".ts"] = (module, filename) => {
  module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
};
