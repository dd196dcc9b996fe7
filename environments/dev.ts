import type { EnvironmentConfig } from "./types";

export const dev = {
  name: "dev",
  accountId: "111111111111",
  region: "eu-west-1",
  network: { vpcCidr: "10.10.0.0/16", azCount: 2 },
  state: { bucket: "blueprint-tfstate-111111111111", lockTable: "blueprint-tflock", region: "eu-west-1" },
  tags: { owner: "platform-team", costCenter: "platform-dev" },
} as const satisfies EnvironmentConfig;
