import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./environment";

export interface OpenApiValidation {
  readonly valid: boolean;
  readonly version: string;
  readonly errors: unknown;
}

/** Validates an OpenAPI document against the official 3.x schemas (@seriousme/openapi-schema-validator). */
export function validateOpenApi(document: unknown): Promise<OpenApiValidation> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, "validate-openapi.mjs")], {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(output) as OpenApiValidation)
        : reject(new Error(`validator exited ${code}`)),
    );
    child.stdin.end(JSON.stringify(document));
  });
}
