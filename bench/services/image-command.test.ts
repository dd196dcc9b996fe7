import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { imageNodeArgs, localNodeArgs } from "./image-command";

const root = path.resolve(__dirname, "../..");

function dockerfile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-command-"));
  const file = path.join(dir, "Dockerfile");
  fs.writeFileSync(file, text);
  return file;
}

describe("the node command line of a service image", () => {
  it("When the benchmark starts user-service, then it runs the image's CMD: its node flags and its entry point under the checkout", () => {
    const file = path.join(root, "services/user-service/Dockerfile");
    const args = imageNodeArgs(file);
    expect(args.at(-1)).toBe("services/user-service/dist/main.js");
    expect(localNodeArgs(file, "/repo")).toEqual([
      ...args.slice(0, -1),
      "/repo/services/user-service/dist/main.js",
    ]);
  });

  it("When a Dockerfile has two CMDs and a HEALTHCHECK's CMD, then the last CMD counts", () => {
    const file = dockerfile(
      'CMD ["node", "old.js"]\nHEALTHCHECK --interval=10s \\\n  CMD ["node", "-e", "1"]\nCMD ["node", "--max-semi-space-size=8", "dist/main.js"]\n',
    );
    expect(imageNodeArgs(file)).toEqual(["--max-semi-space-size=8", "dist/main.js"]);
  });

  it("When the CMD is in shell form or does not run node, then the error names the Dockerfile", () => {
    expect(() => imageNodeArgs(dockerfile("CMD node dist/main.js\n"))).toThrow(/no CMD in exec form/);
    expect(() => imageNodeArgs(dockerfile('CMD ["python", "main.py"]\n'))).toThrow(/does not run node/);
  });
});
