"use strict";
/**
 * Reads a tsconfig's compilerOptions the way TypeScript does, without loading TypeScript (half a
 * second of a synthesis): comments and trailing commas allowed, `extends` a path, a package or a
 * list of them (later ones win, the file itself last).
 */
const fs = require("node:fs");
const path = require("node:path");

/** JSON text with `//` and block comments and trailing commas removed, strings left alone. */
function stripJsonc(text) {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new Error("unterminated comment");
      i = end + 1;
    } else {
      out += c;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

function resolveExtends(name, dir) {
  if (name.startsWith(".") || path.isAbsolute(name)) return path.resolve(dir, name);
  return require.resolve(name, { paths: [dir] });
}

/** compilerOptions of the tsconfig at `file`, over those of the files it extends. */
function compilerOptions(file) {
  let config;
  try {
    config = JSON.parse(stripJsonc(fs.readFileSync(file, "utf8")));
  } catch (error) {
    throw new Error(`${file}: not a readable tsconfig (${error.message})`);
  }
  const bases = config.extends === undefined ? [] : [config.extends].flat();
  const inherited = bases.map((base) => compilerOptions(resolveExtends(base, path.dirname(file))));
  return Object.assign({}, ...inherited, config.compilerOptions);
}

module.exports = { compilerOptions, stripJsonc };
