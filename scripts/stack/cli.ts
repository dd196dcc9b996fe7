import { loadSettings } from "../deps/settings";
import { demo } from "./demo";
import { describeStack, stackDown, stackPorts, stackUp } from "./stack";

const USAGE = "usage: stack <up|down|demo>";

async function main(command: string | undefined): Promise<void> {
  const settings = loadSettings();
  const ports = stackPorts();
  switch (command) {
    case "up":
      await stackUp(settings, ports);
      console.log(`\nthe stack is ready:\n${await describeStack(settings, ports)}\n\nnext: npm run demo`);
      return;
    case "down":
      await stackDown(settings, ports);
      return;
    case "demo":
      await demo(settings, ports);
      return;
    default:
      throw new Error(USAGE);
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`stack: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
