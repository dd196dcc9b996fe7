import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DOT_PATH, generateDot, SVG_PATH } from "./generate";
import { stampSvg } from "./svg";

// `npm run docs:diagram`: synthesizes every environment in memory, reads the service catalog and
// writes docs/architecture.dot, then renders docs/architecture.svg with Graphviz (`dot`).
const root = path.resolve(__dirname, "../../..");
const dot = generateDot();
fs.writeFileSync(path.join(root, DOT_PATH), dot);
const rendered = spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
if (rendered.error || rendered.status !== 0) {
  const why = rendered.error ? rendered.error.message : rendered.stderr;
  console.error(`wrote ${DOT_PATH}, but Graphviz failed to render it: ${why}`);
  console.error("Graphviz is the Debian package `graphviz`: sudo apt-get install -y graphviz");
  process.exit(1);
}
fs.writeFileSync(path.join(root, SVG_PATH), stampSvg(rendered.stdout, dot));
console.log(`wrote ${DOT_PATH} and ${SVG_PATH}`);
