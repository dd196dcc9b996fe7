import type { EnvironmentConfig } from "./types";

const sizing = {
  replicas: 3,
  minReplicas: 3,
  maxReplicas: 10,
  cpuRequestMillicores: 250,
  cpuLimitMillicores: 500,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
};

export const staging = {
  name: "staging",
  profile: "non-production",
  accountId: "222222222222",
  region: "eu-west-1",
  network: { vpcCidr: "10.20.0.0/16", azCount: 3, natGateways: "single", interfaceEndpoints: true },
  database: {
    instanceClass: "db.t4g.large",
    allocatedStorageGiB: 50,
    maxAllocatedStorageGiB: 200,
    backupRetentionDays: 7,
    multiAz: true,
    deletionProtection: true,
    finalSnapshot: true,
    performanceInsightsRetentionDays: 7,
  },
  kafka: { brokerInstanceType: "kafka.m7g.large", brokerCount: 3, storagePerBrokerGiB: 200 },
  compute: { kind: "ecs" },
  services: { "user-service": sizing, "order-service": sizing, "notification-service": sizing },
  edge: { domainName: "api.staging.blueprint.example.com", waf: true, deletionProtection: false },
  autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80 },
  observability: { grafanaAuthentication: "SAML", traceSampleRatio: 1 },
  logRetentionDays: 90,
  alerts: { emails: ["platform-staging-alerts@example.com"] },
  state: { bucket: "blueprint-tfstate-222222222222", lockTable: "blueprint-tflock" },
  githubRepository: "example-org/event-platform-blueprint",
  githubOidcProvider: "create",
  auth: { provider: "cognito" },
  tags: { owner: "platform-team", costCenter: "platform-staging" },
} as const satisfies EnvironmentConfig;
