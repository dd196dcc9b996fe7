import fs from "node:fs";
import path from "node:path";
import { loadSettings } from "../deps/settings";
import { exec, type Suite } from "./suites";
import { localBin, onPath } from "./terraform";

/** The Compose files `docker compose -f docker-compose-local.yml` loads. */
const COMPOSE_FILES = ["docker-compose-local.yml"];

const toolDir = () => path.join(loadSettings().repoRoot, "tools", "compose-check");

function goOnPath(env: NodeJS.ProcessEnv): string {
  const go = onPath("go", env.PATH);
  if (go) return go;
  throw new Error(
    "Go is not on PATH: the Compose file check is a Go program built on compose-go (tools/compose-check); " +
      "install Go 1.24 or newer (https://go.dev/dl/)",
  );
}

/**
 * Builds tools/compose-check into `.local/bin`. Always runs `go build`: Go's build cache makes an
 * unchanged tool a sub-second no-op, and a changed one is never run stale.
 */
async function buildComposeCheck(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  const target = path.join(localBin(), "compose-check");
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const code = await exec(go, ["-C", toolDir(), "build", "-buildvcs=false", "-o", target, "."], env);
  if (code !== 0) throw new Error(`go build of tools/compose-check failed (exit ${code})`);
  return target;
}

/** Loads the Compose files (or the files given) as Docker Compose would; see tools/compose-check. */
async function checkComposeFiles(go: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  const check = await buildComposeCheck(go, env);
  const root = loadSettings().repoRoot;
  return exec(check, args.length > 0 ? args : COMPOSE_FILES.map((file) => path.join(root, file)), env);
}

/** The tool's own tests (tools/compose-check/testdata): that invalid files do fail, and why. */
const testComposeCheck = (go: string, env: NodeJS.ProcessEnv) =>
  exec(go, ["-C", toolDir(), "test", "-buildvcs=false", "./..."], env);

/** Two checks: the tool's tests, then the repository's Compose files. */
export const composeCheckSuite: Suite = {
  name: "compose file (compose-go)",
  async run(env) {
    let passed = 0;
    try {
      const go = goOnPath(env);
      if ((await testComposeCheck(go, env)) === 0) passed++;
      if ((await checkComposeFiles(go, [], env)) === 0) passed++;
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
    }
    return { passed, failed: 2 - passed, skipped: 0 };
  },
};

// `npm run compose:check [FILE ...]`
if (require.main === module) {
  Promise.resolve()
    .then(() => checkComposeFiles(goOnPath(process.env), process.argv.slice(2), process.env))
    .then(
      (code) => process.exit(code),
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
      },
    );
}
