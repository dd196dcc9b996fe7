import fs from "node:fs";
import path from "node:path";
import { GENERATED_DIR, generatedFiles, REPO_ROOT } from "../generate";

// Rewrites every generated file and removes stale ones under dashboards/generated.
const files = generatedFiles();
const generatedRoot = path.join(REPO_ROOT, GENERATED_DIR);
const listed = (dir: string): string[] =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        return e.isDirectory() ? listed(full) : [full];
      })
    : [];
for (const stale of listed(generatedRoot)) {
  const relative = path.relative(REPO_ROOT, stale);
  if (!(relative in files)) {
    fs.rmSync(stale);
    console.log(`removed ${relative}`);
  }
}
for (const [relative, content] of Object.entries(files)) {
  const target = path.join(REPO_ROOT, relative);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content);
  console.log(`wrote ${relative}`);
}
