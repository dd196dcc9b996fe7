import fs from "node:fs";
import path from "node:path";

/**
 * Adds lockfile entries for platform-specific optional dependencies (e.g. @biomejs/cli-darwin-arm64)
 * that npm could not resolve because the registry mirror this repository is developed against holds
 * only some platforms' builds. Without them `npm ci` reports the lockfile out of sync. Each entry
 * pins the exact version its parent requires and carries os/cpu/libc inferred from the package name,
 * so npm skips it on other platforms and fetches it (by version) on its own platform.
 *
 * Run after `npm install` changes the lockfile: `npm run lockfile:complete`.
 */

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

const OS = [
  "android",
  "darwin",
  "linux",
  "win32",
  "freebsd",
  "openharmony",
  "netbsd",
  "openbsd",
  "sunos",
  "aix",
];
const CPU = ["arm64", "x64", "ia32", "arm", "loong64", "ppc64", "riscv64", "s390x", "wasm32", "mips64el"];

function platformOf(name: string): Pick<LockEntry, "os" | "cpu" | "libc"> | undefined {
  const parts = name.split("/").pop()?.split("-") ?? [];
  const os = OS.find((o) => parts.includes(o));
  const cpu = CPU.find((c) => parts.includes(c));
  if (!os || !cpu) return undefined;
  const libc =
    parts.includes("musl") || parts.includes("musleabihf")
      ? ["musl"]
      : os === "linux"
        ? ["glibc"]
        : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

const lockPath = path.resolve(__dirname, "../../package-lock.json");
const lock = JSON.parse(fs.readFileSync(lockPath, "utf8")) as { packages: Record<string, LockEntry> };
const added: string[] = [];
for (const [, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    const platform = platformOf(dep);
    if (lock.packages[key] || !platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    lock.packages[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added.push(`${dep}@${version}`);
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
fs.writeFileSync(lockPath, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(
  added.length
    ? `added ${added.length} platform entries:\n  ${added.join("\n  ")}`
    : "lockfile already complete",
);
