import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMPOSE_GENERATED_FILES } from "./provisioning";

describe("compose files generated from the catalog", () => {
  it.each(Object.keys(COMPOSE_GENERATED_FILES))(
    "When the catalog changes, then %s is regenerated (npm run compose:generate)",
    (file) => {
      const committed = fs.readFileSync(path.resolve(__dirname, "../..", file), "utf8");
      expect(committed).toBe(COMPOSE_GENERATED_FILES[file]?.());
    },
  );
});
