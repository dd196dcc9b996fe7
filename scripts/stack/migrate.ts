import { spawnSync } from "node:child_process";
import path from "node:path";
import { CATALOG, serviceEntries } from "@blueprint/service-kit/catalog";
import { localServicePassword } from "../deps/provisioning";
import { loadSettings } from "../deps/settings";

// `npm run migrate`: applies every service's pending migrations against the local database, each
// with its own role, by running the same migrate command the service images run (node dist/migrate.js).
const settings = loadSettings();
let failed = false;
for (const service of serviceEntries()) {
  const role = service.database.role;
  const result = spawnSync(
    process.execPath,
    [
      "--conditions=development",
      "--import",
      "tsx",
      path.join(settings.repoRoot, `services/${service.name}/src/migrate.ts`),
    ],
    {
      cwd: settings.repoRoot,
      stdio: ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        // The database deps:up runs, or with BLUEPRINT_DEPS=external the one PGHOST names.
        PGHOST: settings.postgres.host,
        PGPORT: String(settings.postgres.port),
        PGSSLMODE: process.env.PGSSLMODE ?? "disable",
        PGDATABASE: CATALOG.database,
        PGUSER: role,
        PGPASSWORD: process.env[`${role.toUpperCase()}_PGPASSWORD`] ?? localServicePassword(role),
        LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
      },
    },
  );
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
