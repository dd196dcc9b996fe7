// The fault suite: its own Jest run (`npm run test:faults`), apart from the services' tests.
const path = require("node:path");

const root = path.resolve(__dirname, "../../..");

/** @type {import('jest').Config} */
module.exports = {
  displayName: "faults",
  rootDir: __dirname,
  testEnvironment: "node",
  testMatch: ["<rootDir>/**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: path.join(root, "tsconfig.json") }] },
  testEnvironmentOptions: { customExportConditions: ["development", "node", "require", "default"] },
};
