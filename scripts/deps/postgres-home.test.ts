import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Postgres } from "./postgres";
import { createOwnedDirs, writeOwnedFile } from "./postgres-home";
import { isRoot } from "./prerequisites";
import { loadSettings } from "./settings";

const scratch: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-pghome-"));
  scratch.push(dir);
  return dir;
}

describe("PostgreSQL's folders and files", () => {
  afterEach(() => {
    for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("When the password file's path is a symbolic link, then it is replaced, never written through", () => {
    const dir = tempDir();
    const victim = path.join(dir, "victim");
    fs.writeFileSync(victim, "untouched\n", { mode: 0o644 });
    const pwfile = path.join(dir, "superuser.pw");
    fs.symlinkSync(victim, pwfile);

    writeOwnedFile(pwfile, "secret\n");

    expect(fs.readFileSync(victim, "utf8")).toBe("untouched\n");
    expect(fs.lstatSync(pwfile).isFile()).toBe(true);
    expect(fs.readFileSync(pwfile, "utf8")).toBe("secret\n");
  });

  it("When a readable password file is left over, then the new one is private (mode 600)", () => {
    const pwfile = path.join(tempDir(), "superuser.pw");
    fs.writeFileSync(pwfile, "old\n", { mode: 0o644 });
    fs.chmodSync(pwfile, 0o644);

    writeOwnedFile(pwfile, "secret\n");

    expect(fs.statSync(pwfile).mode & 0o777).toBe(0o600);
  });

  // Only root chowns: the folders under /var/lib/postgresql/blueprint belong to the postgres OS user.
  it.skipIf(!isRoot())(
    "When a folder to hand to the postgres OS user is a symbolic link, then it is refused, not followed",
    () => {
      const dir = tempDir();
      const target = path.join(dir, "elsewhere");
      fs.mkdirSync(target);
      const home = path.join(dir, "parent", "home");
      fs.mkdirSync(home, { recursive: true });
      fs.symlinkSync(target, path.join(home, "data"));

      expect(() => createOwnedDirs(home, [path.join(home, "data")], dir)).toThrow(/symbolic link/);
      expect(fs.statSync(target).uid).toBe(0);
    },
  );

  it("When postmaster.pid names a live process that is not our PostgreSQL, then it does not count as running", () => {
    const localDir = tempDir();
    const postgres = new Postgres(loadSettings({ BLUEPRINT_LOCAL_DIR: localDir, PGPORT: "57432" }));
    const dataDir = path.join(postgres.home, "data");
    fs.mkdirSync(dataDir, { recursive: true });
    scratch.push(postgres.home);
    // A crashed server's pid file whose pid now belongs to another program (here: this test).
    fs.writeFileSync(path.join(dataDir, "postmaster.pid"), `${process.pid}\n${dataDir}\n`);

    expect(postgres.runningPid()).toBeUndefined();
  });
});
