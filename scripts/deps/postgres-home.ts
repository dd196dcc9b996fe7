import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { isRoot } from "./prerequisites";
import type { LocalSettings } from "./settings";

/** Where root's PostgreSQL folders go: under the home of the Debian package's `postgres` user. */
export const ROOT_POSTGRES_PARENT = "/var/lib/postgresql/blueprint";

/**
 * The folder holding PostgreSQL's data and socket folders. PostgreSQL refuses to run as root, so
 * as root it runs as the `postgres` OS user, who cannot enter a checkout in a private home such as
 * /root (mode 700). Its folder then lives outside the checkout, named after the local folder so
 * two clones never share one; otherwise it is `<local folder>/postgres`.
 */
export function postgresHome(settings: LocalSettings): string {
  if (!isRoot()) return path.join(settings.localDir, "postgres");
  const key = createHash("sha256").update(settings.localDir).digest("hex").slice(0, 16);
  return path.join(ROOT_POSTGRES_PARENT, key);
}

/** Creates `dirs` (mode 700) owned by the OS user PostgreSQL runs as: ourselves, or `postgres` as root. */
export function createOwnedDirs(home: string, dirs: readonly string[], localDir: string): void {
  for (const dir of dirs) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isRoot()) return;
  // Says which checkout a folder under ROOT_POSTGRES_PARENT belongs to, for whoever cleans up.
  fs.writeFileSync(path.join(home, "local-dir"), `${localDir}\n`);
  const { uid, gid } = postgresOsUser();
  for (const dir of [path.dirname(home), home, ...dirs]) fs.chownSync(dir, uid, gid);
}

/** Writes a file only PostgreSQL's OS user can read, e.g. initdb's password file. */
export function writeOwnedFile(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  if (!isRoot()) return;
  const { uid, gid } = postgresOsUser();
  fs.chownSync(file, uid, gid);
}

function postgresOsUser(): { uid: number; gid: number } {
  const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error("the postgres OS user is missing; reinstall the postgresql package");
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
