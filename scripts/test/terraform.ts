import fs from "node:fs";
import path from "node:path";
import { loadSettings } from "../deps/settings";
import { exec } from "./suites";

/**
 * The Terraform installed when none is on PATH. 1.8.5 is the newest release `go install` can
 * build: from 1.9 on, Terraform's go.mod has replace directives, which `go install pkg@version`
 * refuses. It reads and writes the same plan JSON format (1.2) as current releases.
 */
export const TERRAFORM_FALLBACK_VERSION = "v1.8.5";

/** The first executable named `name` on PATH, if any. */
export function onPath(name: string, envPath = process.env.PATH ?? ""): string | null {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** `.local/bin`, where the test command installs the tools it builds. */
export const localBin = () => path.join(loadSettings().localDir, "bin");

/**
 * Installs a Go command into `.local/bin` through the Go module proxy unless it is there already.
 * Returns its path.
 */
export async function goInstall(name: string, pkg: string, version: string): Promise<string> {
  const bin = localBin();
  const target = path.join(bin, name);
  if (fs.existsSync(target)) return target;
  const go = onPath("go");
  if (!go) {
    throw new Error(
      `${name} is missing and Go is not on PATH to install it; install Go 1.24 or newer (https://go.dev/dl/) ` +
        `or put ${name} on PATH`,
    );
  }
  fs.mkdirSync(bin, { recursive: true });
  console.log(`installing ${name} ${version} with go install ${pkg}@${version} into ${bin}`);
  const code = await exec(go, ["install", `${pkg}@${version}`], { ...process.env, GOBIN: bin });
  if (code !== 0 || !fs.existsSync(target))
    throw new Error(`go install ${pkg}@${version} failed (exit ${code})`);
  return target;
}

/** The Terraform CLI to use: the one on PATH, else one built into `.local/bin`. */
export async function ensureTerraform(): Promise<string> {
  return (
    onPath("terraform") ??
    (await goInstall("terraform", "github.com/hashicorp/terraform", TERRAFORM_FALLBACK_VERSION))
  );
}
