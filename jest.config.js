// One Jest run for every service workspace; each workspace is a project with its own display name.
const fs = require("node:fs");
const path = require("node:path");

const servicesDir = path.join(__dirname, "services");
const projects = fs
  .readdirSync(servicesDir)
  .filter((name) => fs.existsSync(path.join(servicesDir, name, "test")))
  .map((name) => ({
    displayName: name,
    rootDir: path.join(servicesDir, name),
    testEnvironment: "node",
    testMatch: ["<rootDir>/test/**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: path.join(__dirname, "tsconfig.json") }] },
    // Resolve workspace packages to their TypeScript sources, as tsc and tsx do.
    testEnvironmentOptions: { customExportConditions: ["development", "node", "require", "default"] },
  }));

/** @type {import('jest').Config} */
module.exports = { projects, testTimeout: 30_000 };
