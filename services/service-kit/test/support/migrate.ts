// Runs the kit's runMigrations in a process of its own (node-pg-migrate is ESM-only, which Jest
// cannot import): `migrate.ts <service> <dir> <current|pre-kit>`, config from the environment,
// prints the names applied as JSON.
import { createLogger, loadConfig, type ServiceName, serviceEntry } from "../../src";
import { runMigrations } from "../../src/migrations";
import { serviceConfigSchema } from "../../src/service";

const [name = "", dir = "", version = "current"] = process.argv.slice(2);
const entry = serviceEntry(name as ServiceName);
const config = loadConfig(serviceConfigSchema(entry), process.env);
runMigrations({
  config,
  // Before the kit owned its tables no kit table set applied: only the service's folder ran.
  entry: version === "pre-kit" ? { ...entry, produces: [], consumes: [], routes: [] } : entry,
  dir,
  logger: createLogger("migrate-test", "silent"),
}).then(
  (applied) => console.log(JSON.stringify(applied)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
