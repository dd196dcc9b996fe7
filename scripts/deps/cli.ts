import { Postgres } from "./postgres";
import { downAll, localDependencies, upAll } from "./registry";
import { loadSettings } from "./settings";

const USAGE = "usage: deps <up|down|status> [postgres|kafka|prometheus ...]";

async function main(argv: string[]): Promise<void> {
  const [command, ...names] = argv;
  const settings = loadSettings();
  const all = localDependencies(settings);
  const unknown = names.filter((n) => !all.some((d) => d.name === n));
  if (unknown.length > 0) throw new Error(`unknown dependency ${unknown.join(", ")}. ${USAGE}`);
  const selected = names.length === 0 ? all : all.filter((d) => names.includes(d.name));
  switch (command) {
    case "up":
      await upAll(selected);
      if (settings.mode === "local") console.log(`data and logs under ${settings.localDir}`);
      for (const dep of selected) {
        if (dep instanceof Postgres && !dep.home.startsWith(settings.localDir)) {
          console.log(`PostgreSQL data under ${dep.home} (it runs as the postgres OS user)`);
        }
      }
      return;
    case "down":
      await downAll(selected);
      return;
    case "status":
      for (const dep of selected) {
        const pid = dep.runningPid();
        const state = !dep.managed ? "external" : pid === undefined ? "stopped" : `running   pid ${pid}`;
        console.log(`${dep.name.padEnd(11)} ${state.padEnd(19)} ${dep.address}`);
      }
      return;
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`deps: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
