import { defineConfig } from "vitest/config";

// Infrastructure suites: constructs, stacks, environment validation and repo tooling.
export default defineConfig({
  resolve: { conditions: ["development"] },
  ssr: { resolve: { conditions: ["development"] } },
  test: {
    include: [
      "environments/**/*.test.ts",
      "modules/**/*.test.ts",
      "stacks/**/*.test.ts",
      "scripts/**/*.test.ts",
      "bench/**/*.test.ts",
      "tools/**/*.test.ts",
      "dashboards/**/*.test.ts",
    ],
    environment: "node",
    testTimeout: 60_000,
    pool: "forks",
  },
});
