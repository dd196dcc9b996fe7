import fs from "node:fs";
import path from "node:path";
import { loadSettings } from "../deps/settings";
import { exec, type Suite } from "./suites";
import { goInstall, onPath } from "./terraform";

/** actionlint release the test command installs (Go module `github.com/rhysd/actionlint`). */
export const ACTIONLINT_VERSION = "v1.7.12";

/** The actionlint binary in `.local/bin`, installed through the Go module proxy when missing. */
export const ensureActionlint = () =>
  goInstall("actionlint", "github.com/rhysd/actionlint/cmd/actionlint", ACTIONLINT_VERSION);

function workflowFiles(): string[] {
  const dir = path.join(loadSettings().repoRoot, ".github", "workflows");
  return fs
    .readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

function scriptFiles(): string[] {
  const dir = path.join(loadSettings().repoRoot, ".github", "scripts");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".sh"))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * Lints every workflow under `.github/workflows` (or the files given) with actionlint. With
 * shellcheck on PATH (it is on GitHub's runners; `apt-get install shellcheck` here), actionlint
 * also checks every `run:` script, and the scripts under `.github/scripts` are checked too.
 */
export async function runActionlint(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const actionlint = await ensureActionlint();
  const shellcheck = onPath("shellcheck", env.PATH);
  if (!shellcheck)
    console.log("shellcheck is not on PATH: shell scripts are not checked (apt-get install shellcheck)");
  const code = await exec(actionlint, ["-no-color", ...(args.length > 0 ? args : workflowFiles())], env);
  const scripts = args.length > 0 ? [] : scriptFiles();
  if (!shellcheck || scripts.length === 0) return code;
  const scriptsCode = await exec(shellcheck, ["--color=never", ...scripts], env);
  return code !== 0 ? code : scriptsCode;
}

export const actionlintSuite: Suite = {
  name: "workflows (actionlint)",
  async run(env) {
    try {
      const code = await runActionlint([], env);
      return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      return { passed: 0, failed: 1, skipped: 0 };
    }
  },
};

if (require.main === module) {
  runActionlint(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
