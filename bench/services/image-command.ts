import fs from "node:fs";
import path from "node:path";

/**
 * The node arguments a service image starts with: its Dockerfile's last `CMD` in exec form, without
 * the leading `node`, paths as in the image (relative to the repository root, the image's `/app`).
 * The benchmark runs the services with these, so that it measures what the image runs.
 */
export function imageNodeArgs(dockerfile: string): string[] {
  const text = fs.readFileSync(dockerfile, "utf8");
  const cmds = [...text.matchAll(/^CMD (\[.*\])\s*$/gm)];
  const last = cmds.at(-1)?.[1];
  if (last === undefined) throw new Error(`${dockerfile}: no CMD in exec form ("CMD [...]")`);
  const args = JSON.parse(last) as unknown;
  if (!Array.isArray(args) || args[0] !== "node" || !args.every((a) => typeof a === "string")) {
    throw new Error(`${dockerfile}: CMD ${last} does not run node`);
  }
  return args.slice(1);
}

/** `imageNodeArgs` with the entry point (the last argument) made absolute under `root`. */
export function localNodeArgs(dockerfile: string, root: string): string[] {
  const args = imageNodeArgs(dockerfile);
  const entry = args.pop();
  if (entry === undefined || entry.startsWith("-"))
    throw new Error(`${dockerfile}: CMD names no entry point`);
  return [...args, path.join(root, entry)];
}
