import type { EnvironmentConfig } from "./types";

const sizing = {
  replicas: 2,
  minReplicas: 2,
  maxReplicas: 4,
  cpuRequestMillicores: 250,
  cpuLimitMillicores: 500,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
};

export const dev = {
  name: "dev",
  profile: "non-production",
  accountId: "111111111111",
  region: "eu-west-1",
  network: { vpcCidr: "10.10.0.0/16", azCount: 3, natGateways: "single", interfaceEndpoints: false },
  database: {
    instanceClass: "db.t4g.medium",
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    backupRetentionDays: 3,
    multiAz: false,
    deletionProtection: false,
    finalSnapshot: false,
    performanceInsightsRetentionDays: 7,
  },
  kafka: { brokerInstanceType: "kafka.t3.small", brokerCount: 3, storagePerBrokerGiB: 50 },
  compute: { kind: "ecs" },
  services: { "user-service": sizing, "order-service": sizing, "notification-service": sizing },
  edge: { domainName: "api.dev.blueprint.example.com", waf: false, deletionProtection: false },
  autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80 },
  observability: { grafanaAuthentication: "SAML", traceSampleRatio: 1 },
  logRetentionDays: 30,
  alerts: { emails: ["platform-dev-alerts@example.com"] },
  state: { bucket: "blueprint-tfstate-111111111111", lockTable: "blueprint-tflock" },
  githubRepository: "example-org/event-platform-blueprint",
  githubOidcProvider: "create",
  auth: { provider: "cognito" },
  tags: { owner: "platform-team", costCenter: "platform-dev" },
} as const satisfies EnvironmentConfig;
