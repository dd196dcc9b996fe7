import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Every relative link in the repository's Markdown files must point at a file that exists, and a
// `#fragment` into a Markdown file at one of its headings (GitHub's anchor rules).
const root = path.resolve(__dirname, "../..");
const SKIP = new Set([
  "node_modules",
  ".git",
  ".local",
  "cdktf.out",
  "dist",
  "coverage",
  ".gen",
  ".terraform",
]);

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(full);
    return entry.name.endsWith(".md") ? [full] : [];
  });
}

/** Markdown without fenced code blocks and inline code, where link syntax is only text. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").replace(/`[^`\n]*`/g, "");
}

/** Link targets of `[text](target)` and `![alt](target)`, and of reference definitions. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string);
  const references = [...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] as string);
  return [...inline, ...references];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (match[1] as string)
      .replace(/<[^>]+>/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

function brokenLinks(file: string): string[] {
  const markdown = fs.readFileSync(file, "utf8");
  const problems: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
    const [rawPath = "", fragment] = target.split("#", 2);
    const linkPath = decodeURIComponent(rawPath);
    const resolved = linkPath === "" ? file : path.resolve(path.dirname(file), linkPath);
    if (!fs.existsSync(resolved)) {
      problems.push(`${target}: ${path.relative(root, resolved)} does not exist`);
      continue;
    }
    if (fragment && resolved.endsWith(".md") && !anchors(fs.readFileSync(resolved, "utf8")).has(fragment)) {
      problems.push(`${target}: no heading for #${fragment} in ${path.relative(root, resolved)}`);
    }
  }
  return problems;
}

describe("documentation links", () => {
  it("When headings repeat or hold punctuation, then anchors follow GitHub's rules", () => {
    expect([
      ...anchors("# Observability (for SREs)\n## With Docker\n## With Docker\n```\n# not a heading\n```\n"),
    ]).toEqual(["observability-for-sres", "with-docker", "with-docker-1"]);
    expect(linkTargets("[a](b.md#c) `[x](y.md)` ![i](d.svg)\n[r]: e.md\n")).toEqual([
      "b.md#c",
      "d.svg",
      "e.md",
    ]);
  });

  const files = markdownFiles(root).map((f) => path.relative(root, f));
  it.each(files)("When %s links a file or heading of the repository, then it exists", (file) => {
    expect(brokenLinks(path.join(root, file))).toEqual([]);
  });
});
