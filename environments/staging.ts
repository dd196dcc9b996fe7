import type { EnvironmentConfig } from "./types";

export const staging = {
  name: "staging",
  accountId: "222222222222",
  region: "eu-west-1",
  network: { vpcCidr: "10.20.0.0/16", azCount: 3 },
  state: { bucket: "blueprint-tfstate-222222222222", lockTable: "blueprint-tflock", region: "eu-west-1" },
  tags: { owner: "platform-team", costCenter: "platform-staging" },
} as const satisfies EnvironmentConfig;
