import type { EnvironmentConfig } from "./types";

export const prod = {
  name: "prod",
  accountId: "333333333333",
  region: "eu-west-1",
  network: { vpcCidr: "10.30.0.0/16", azCount: 3 },
  state: { bucket: "blueprint-tfstate-333333333333", lockTable: "blueprint-tflock", region: "eu-west-1" },
  tags: { owner: "platform-team", costCenter: "platform-prod" },
} as const satisfies EnvironmentConfig;
