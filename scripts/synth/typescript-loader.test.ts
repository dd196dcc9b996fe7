import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const loader = path.join(__dirname, "typescript-loader.cjs");
const { compilerOptions } = createRequire(__filename)("./tsconfig.cjs") as {
  compilerOptions: (file: string) => Record<string, unknown>;
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-loader-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a TypeScript file through the loader, as `cdktf synth` runs main.ts, and returns its output. */
function runTs(source: string, cacheDir: string): string {
  const file = path.join(dir, "app.ts");
  fs.writeFileSync(file, source);
  return execFileSync(process.execPath, ["--require", loader, file], {
    encoding: "utf8",
    env: { ...process.env, SYNTH_TS_CACHE_DIR: cacheDir },
  });
}

describe("the synthesis TypeScript loader", () => {
  const app = 'const stacks: readonly string[] = ["dev", "prod"];\nconsole.log(stacks.join(","));\n';

  it("When the cache cannot be created (read-only node_modules, a file in the way), then the app still loads", () => {
    const inTheWay = path.join(dir, "file-not-dir");
    fs.writeFileSync(inTheWay, "");
    expect(runTs(app, path.join(inTheWay, "cache"))).toBe("dev,prod\n");
  });

  it("When the cache can be written, then the transpiled file is kept there and nothing half-written is left", () => {
    const cacheDir = path.join(dir, "cache");
    expect(runTs(app, cacheDir)).toBe("dev,prod\n");
    const files = fs.readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.js$/);
    expect(runTs(app, cacheDir)).toBe("dev,prod\n");
  });

  it("When the tsconfig has comments, trailing commas and several bases, then their options merge as TypeScript merges them", () => {
    fs.writeFileSync(
      path.join(dir, "a.json"),
      '{ "compilerOptions": { "target": "ES2020", "strict": true, /* base */ } }',
    );
    fs.writeFileSync(path.join(dir, "b.json"), '{ "compilerOptions": { "target": "ES2022", } }');
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      [
        "{",
        "  // the project's own settings win",
        '  "extends": ["./a.json", "./b.json"],',
        '  "compilerOptions": { "useDefineForClassFields": true, "paths": { "x/*": ["./src/*"] }, },',
        "}",
      ].join("\n"),
    );
    expect(compilerOptions(path.join(dir, "tsconfig.json"))).toEqual({
      target: "ES2022",
      strict: true,
      useDefineForClassFields: true,
      paths: { "x/*": ["./src/*"] },
    });
  });
});
