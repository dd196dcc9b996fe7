import { spawn } from "node:child_process";
import { withProgress } from "./progress";

/**
 * Runs Maven (the MAVEN prerequisite) with `args` (`what` names the work in progress lines and errors). Maven's own output
 * (quiet, yet with stray colour codes) is kept for a failure only; our progress lines say that it
 * is still working.
 */
export async function runMaven(what: string, args: readonly string[]): Promise<void> {
  let output = "";
  const code = await withProgress(
    what,
    () =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn("mvn", ["-B", "-q", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        const keep = (chunk: Buffer) => {
          output += chunk.toString();
        };
        child.stdout.on("data", keep);
        child.stderr.on("data", keep);
        child.once("error", reject);
        child.once("exit", resolve);
      }),
  );
  if (code !== 0) {
    throw new Error(
      `Maven failed ${what} (exit ${code}):\n${output.trim().split("\n").slice(-20).join("\n")}`,
    );
  }
}
