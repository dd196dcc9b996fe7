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

/**
 * Creates `dirs` (mode 700) owned by the OS user PostgreSQL runs as: ourselves, or `postgres` as root.
 * As root, every folder handed over must be a real folder: the ones under ROOT_POSTGRES_PARENT
 * belong to the postgres OS user, who could otherwise point one at a system path for root to chown.
 */
export function createOwnedDirs(home: string, dirs: readonly string[], localDir: string): void {
  for (const dir of dirs) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isRoot()) return;
  const owned = [path.dirname(home), home, ...dirs];
  for (const dir of owned) {
    if (!fs.lstatSync(dir).isDirectory()) {
      throw new Error(
        `${dir} is a symbolic link or not a folder; refusing to hand it to the postgres OS user. Remove it and retry.`,
      );
    }
  }
  const { uid, gid } = postgresOsUser();
  for (const dir of owned) fs.lchownSync(dir, uid, gid);
  // Says which checkout a folder under ROOT_POSTGRES_PARENT belongs to, for whoever cleans up.
  writeFresh(path.join(home, "local-dir"), `${localDir}\n`, 0o644);
}

/** Writes a file only PostgreSQL's OS user can read, e.g. initdb's password file. */
export function writeOwnedFile(file: string, content: string): void {
  writeFresh(file, content, 0o600, isRoot() ? postgresOsUser() : undefined);
}

/**
 * Replaces `file` with a new one of `mode`: whatever was there (a leftover with wider permissions, a
 * symbolic link planted by the folder's owner) is removed, and the exclusive create fails rather
 * than follow a link recreated in between.
 */
function writeFresh(file: string, content: string, mode: number, owner?: { uid: number; gid: number }): void {
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, "wx", mode);
  try {
    if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
    fs.writeFileSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
}

function postgresOsUser(): { uid: number; gid: number } {
  const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error("the postgres OS user is missing; reinstall the postgresql package");
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
