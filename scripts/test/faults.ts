import path from "node:path";
import { checkSuite } from "./suites";

/**
 * The fault suite (docs/faults.md, `npm run test:faults`): the services under load while
 * processes, the broker, PostgreSQL and SMTP fail. It brings its own PostgreSQL and broker.
 */
export const faultSuite = checkSuite("faults (jest)", "jest", [
  "--config",
  path.resolve(__dirname, "../../services/system-tests/faults/jest.config.js"),
]);
