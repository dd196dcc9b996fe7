import fs from "node:fs";
import path from "node:path";
import { COMPOSE_GENERATED_FILES } from "./deps/provisioning";

// Writes the compose stack's catalog-derived files (database roles, topics).
const root = path.resolve(__dirname, "..");
for (const [file, render] of Object.entries(COMPOSE_GENERATED_FILES)) {
  fs.writeFileSync(path.join(root, file), render());
  console.log(`wrote ${file}`);
}
