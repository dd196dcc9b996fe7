import { createHash } from "node:crypto";

const STAMP = /<!-- architecture\.dot sha256:([0-9a-f]{64}) -->/;

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const ALT =
  "Architecture of the event platform blueprint: Terraform stacks per environment and the service catalog";

/**
 * Marks an SVG rendered by Graphviz with the hash of the DOT text it was rendered from, and gives
 * it an accessible name (Graphviz's own title sits inside a group, where readers and Biome miss it).
 */
export function stampSvg(svg: string, dot: string): string {
  const stamp = `<!-- architecture.dot sha256:${sha256(dot)} -->`;
  const at = svg.indexOf("<svg");
  if (at < 0) throw new Error("not an SVG document: no <svg> element");
  return `${svg.slice(0, at)}${stamp}\n<svg role="img" aria-label="${ALT}"${svg.slice(at + "<svg".length)}`;
}

/** The DOT hash an SVG was stamped with, if any. */
export function svgStamp(svg: string): string | undefined {
  return STAMP.exec(svg)?.[1];
}
