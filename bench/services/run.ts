import { dependencyEnv, loadSettings } from "../../scripts/deps/settings";

/*
 * `npm run bench:services`. The test harness reads the dependencies' addresses from the environment
 * when it loads, so they are set, from the same settings `deps:up` uses (KAFKA_PORT, PGPORT...),
 * before the benchmark and the harness are loaded.
 */
const settings = loadSettings();
Object.assign(process.env, dependencyEnv(settings), {
  PGSUPERUSER: settings.postgres.superuser,
  PGSUPERPASSWORD: settings.postgres.superuserPassword,
});

import("./benchmark.js")
  .then(({ main }) => main(settings))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
