import type { EnvironmentConfig } from "./types";

const sizing = {
  replicas: 5,
  minReplicas: 5,
  maxReplicas: 50,
  cpuRequestMillicores: 250,
  cpuLimitMillicores: 500,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
};

export const prod = {
  name: "prod",
  profile: "production",
  accountId: "333333333333",
  region: "eu-west-1",
  network: { vpcCidr: "10.30.0.0/16", azCount: 3, natGateways: "perAz", interfaceEndpoints: true },
  database: {
    instanceClass: "db.r7g.large",
    allocatedStorageGiB: 100,
    maxAllocatedStorageGiB: 500,
    backupRetentionDays: 14,
    multiAz: true,
    deletionProtection: true,
    finalSnapshot: true,
    performanceInsightsRetentionDays: 31,
  },
  kafka: { brokerInstanceType: "kafka.m7g.large", brokerCount: 3, storagePerBrokerGiB: 500 },
  compute: {
    kind: "eks",
    eks: {
      kubernetesVersion: "1.33",
      // 3 services x 50 replicas x 250m = 37.5 vCPU at peak: 12 x 4 vCPU nodes hold it.
      nodeInstanceTypes: ["m7g.xlarge"],
      nodeMin: 3,
      nodeMax: 12,
      nodeDesired: 3,
      publicAccessCidrs: [],
      nodeAutoscaler: "cluster-autoscaler",
    },
  },
  services: { "user-service": sizing, "order-service": sizing, "notification-service": sizing },
  edge: {
    domainName: "api.blueprint.example.com",
    hostedZoneId: "Z0123456789EXAMPLE",
    waf: true,
    deletionProtection: true,
  },
  disasterRecovery: { region: "eu-central-1", backupRetentionDays: 14 },
  autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80 },
  observability: { grafanaAuthentication: "SAML", traceSampleRatio: 0.1 },
  logRetentionDays: 365,
  alerts: { emails: ["platform-oncall@example.com"] },
  state: { bucket: "blueprint-tfstate-333333333333", lockTable: "blueprint-tflock" },
  githubRepository: "example-org/event-platform-blueprint",
  githubOidcProvider: "create",
  auth: { provider: "cognito" },
  tags: { owner: "platform-team", costCenter: "platform-prod" },
} as const satisfies EnvironmentConfig;
