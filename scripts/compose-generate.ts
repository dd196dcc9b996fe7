import fs from "node:fs";
import path from "node:path";
import { localAuthEnv, localDirectory } from "@blueprint/service-kit/dev-tokens";
import { COMPOSE_GENERATED_FILES } from "./deps/provisioning";

// Writes the compose stack's catalog-derived files (database roles, topics).
const root = path.resolve(__dirname, "..");
for (const [file, render] of Object.entries(COMPOSE_GENERATED_FILES)) {
  fs.writeFileSync(path.join(root, file), render());
  console.log(`wrote ${file}`);
}

// And, outside the repository's files, the public key of this clone's development issuer (made on
// first use), which the services in docker-compose-local.yml read as AUTH_JWKS.
const localDir = localDirectory();
const authFile = path.join(localDir, "compose-auth.env");
fs.mkdirSync(localDir, { recursive: true });
fs.writeFileSync(authFile, `AUTH_JWKS=${localAuthEnv(localDir).AUTH_JWKS}\n`);
console.log(`wrote ${path.relative(root, authFile)}`);
