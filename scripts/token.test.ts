import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AUTH_SCOPES, authConfigSchema, loadConfig, TokenVerifier } from "@blueprint/service-kit";
import { localAuthEnv } from "@blueprint/service-kit/dev-tokens";
import { afterAll, describe, expect, it } from "vitest";
import { parseTokenArgs } from "./token";

const root = path.resolve(__dirname, "..");
const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "token-cli-"));

/** Runs `npm run -s token -- <args>` as a developer would; returns stdout. */
function token(args: string[]): string {
  return execFileSync("npm", ["run", "-s", "token", "--", ...args], {
    cwd: root,
    env: { ...process.env, BLUEPRINT_LOCAL_DIR: localDir },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The caller a service trusting this directory's development key sees. */
function callerOf(jwt: string) {
  return new TokenVerifier(loadConfig(authConfigSchema, localAuthEnv(localDir))).verify(jwt);
}

describe("npm run token", () => {
  afterAll(() => fs.rmSync(localDir, { recursive: true, force: true }));

  it("When asked for a subject's token, then stdout is only a token the local services verify, with no scope", async () => {
    const out = token(["--sub", "user-1"]);
    expect(out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const caller = await callerOf(out.trim());
    expect(caller.sub).toBe("user-1");
    expect([...caller.scopes]).toEqual([]);
    expect(fs.statSync(path.join(localDir, "auth", "dev-signing-key.json")).mode & 0o777).toBe(0o600);
  }, 30_000);

  it("When asked with --admin, then the token holds every catalog scope", async () => {
    const caller = await callerOf(token(["--admin"]).trim());
    expect([...caller.scopes].sort()).toEqual(Object.keys(AUTH_SCOPES).sort());
  }, 30_000);

  it.each([
    [["--scope", "users:read"], /--sub <id> is required without --admin/],
    [
      ["--sub", "u", "--scope", "users:read users:delete"],
      /unknown scope users:delete; the scopes are: users:write/,
    ],
    [["--admin", "--scope", "users:read"], /--admin holds every scope; drop --scope/],
    [["--sub", "u", "--expires", "0"], /--expires must be whole seconds from 1 to 86400, got "0"/],
    [["--sub", "u", "--bogus"], /Unknown option '--bogus'/],
  ])("When the arguments are %j, then it fails naming the problem", (args, message) => {
    expect(() => parseTokenArgs(args)).toThrow(message);
  });
});
