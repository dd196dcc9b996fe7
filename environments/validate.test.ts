import { describe, expect, it } from "vitest";
import { dev } from "./dev";
import { ENVIRONMENTS, type EnvironmentConfig, selectEnvironments } from "./index";
import { prod } from "./prod";
import { staging } from "./staging";
import { EnvironmentValidationError, validateEnvironments } from "./validate";

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

/** A deep copy of an environment with `change` applied. */
function variant(
  env: EnvironmentConfig,
  change: (copy: Mutable<EnvironmentConfig>) => void,
): EnvironmentConfig {
  const copy = structuredClone(env) as Mutable<EnvironmentConfig>;
  change(copy);
  return copy;
}

function problemsOf(envs: unknown[]): string[] {
  try {
    validateEnvironments(envs);
    return [];
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return [...error.problems];
    throw error;
  }
}

describe("environment validation", () => {
  it("When the committed environments are validated, then all three pass", () => {
    expect(validateEnvironments(ENVIRONMENTS).map((e) => e.name)).toEqual(["dev", "staging", "prod"]);
  });

  it.each([
    [
      "a VPC CIDR that is not a CIDR",
      variant(dev, (e) => {
        e.network.vpcCidr = "10.10.0.0";
      }),
      'environment "dev": network.vpcCidr is "10.10.0.0"; allowed: an IPv4 CIDR such as 10.10.0.0/16',
    ],
    [
      "a public VPC range",
      variant(dev, (e) => {
        e.network.vpcCidr = "8.8.0.0/16";
      }),
      'environment "dev": network.vpcCidr is "8.8.0.0/16"; allowed: a private (RFC 1918) range',
    ],
    [
      "four AZs",
      variant(dev, (e) => {
        e.network.azCount = 4;
      }),
      'environment "dev": network.azCount is 4; allowed: 2 or 3',
    ],
    [
      "an unknown NAT strategy",
      variant(dev, (e) => {
        (e.network as { natGateways: string }).natGateways = "none";
      }),
      'environment "dev": network.natGateways is "none"; allowed: Invalid option: expected one of "single"|"perAz"',
    ],
    [
      "backups switched off",
      variant(dev, (e) => {
        e.database.backupRetentionDays = 0;
      }),
      'environment "dev": database.backupRetentionDays is 0; allowed: 1 to 35 (0 would disable backups)',
    ],
    [
      "a malformed account id",
      variant(dev, (e) => {
        e.accountId = "1234";
      }),
      'environment "dev": accountId is "1234"; allowed: a 12-digit AWS account id',
    ],
    [
      "brokers that do not divide over the AZs",
      variant(staging, (e) => {
        e.kafka.brokerCount = 4;
      }),
      'environment "staging": kafka.brokerCount is 4; allowed: a multiple of network.azCount (3): MSK spreads brokers evenly over the AZs',
    ],
    [
      "more minimum replicas than maximum",
      variant(dev, (e) => {
        e.services["order-service"] = { ...e.services["order-service"], minReplicas: 5 };
      }),
      [
        'environment "dev": services.order-service.minReplicas is 5; allowed: at most maxReplicas (4)',
        'environment "dev": services.order-service.replicas is 2; allowed: between minReplicas and maxReplicas (5..4)',
      ],
    ],
    [
      "a missing service",
      variant(dev, (e) => {
        delete (e.services as Record<string, unknown>)["notification-service"];
      }),
      'environment "dev": services.notification-service is missing; allowed: sizing for every service in the catalog',
    ],
    [
      "EKS without its node group",
      variant(dev, (e) => {
        (e.compute as { kind: string }).kind = "eks";
      }),
      'environment "dev": compute.eks is missing; allowed: present when compute.kind is eks (Kubernetes version and node group)',
    ],
    [
      "an EKS API open to the internet",
      variant(prod, (e) => {
        (e.compute.eks as { publicAccessCidrs: string[] }).publicAccessCidrs = ["0.0.0.0/0"];
      }),
      'environment "prod": compute.eks.publicAccessCidrs.0 is "0.0.0.0/0"; allowed: not 0.0.0.0/0 (the API would be open to the internet)',
    ],
    [
      "an external identity provider without an audience",
      variant(dev, (e) => {
        e.auth = { provider: "external", issuer: "https://login.example.com", audience: "" };
      }),
      'environment "dev": auth.audience is ""; allowed: a non-empty audience without spaces',
    ],
    [
      "an identity provider issuer over plain HTTP",
      variant(dev, (e) => {
        e.auth = { provider: "external", issuer: "http://login.example.com", audience: "blueprint" };
      }),
      'environment "dev": auth.issuer is "http://login.example.com"; allowed: an https URL',
    ],
    [
      "an identity provider issuer with a trailing slash",
      variant(dev, (e) => {
        e.auth = { provider: "external", issuer: "https://login.example.com/", audience: "blueprint" };
      }),
      'environment "dev": auth.issuer is "https://login.example.com/"; allowed: an https URL without a trailing slash, query or fragment',
    ],
    [
      "an unknown identity provider kind",
      variant(dev, (e) => {
        (e as { auth: unknown }).auth = { provider: "okta" };
      }),
      'environment "dev": auth.provider is "okta"; allowed: "cognito" (the stacks create a user pool) or "external" (with issuer and audience)',
    ],
    [
      "an unknown GitHub OIDC provider setting",
      variant(dev, (e) => {
        (e as { githubOidcProvider: string }).githubOidcProvider = "import";
      }),
      'environment "dev": githubOidcProvider is "import"; allowed: "create" (this bootstrap stack creates it) or "existing"',
    ],
    [
      "Karpenter as the node autoscaler",
      variant(prod, (e) => {
        (e.compute.eks as { nodeAutoscaler: string }).nodeAutoscaler = "karpenter";
      }),
      'environment "prod": compute.eks.nodeAutoscaler is "karpenter"; allowed: "cluster-autoscaler": Karpenter nodes join no Auto Scaling group, so the ALB target groups attached to the node group would never reach them',
    ],
    [
      "too few nodes for the services at their maximum",
      variant(prod, (e) => {
        (e.compute.eks as { nodeMax: number }).nodeMax = 9;
      }),
      'environment "prod": compute.eks.nodeMax is 9; allowed: enough nodes for every service at maxReplicas: 37500m CPU requested, 9 x m7g.xlarge hold about 32400m after system pods',
    ],
    [
      "two brokers",
      variant(dev, (e) => {
        e.kafka.brokerCount = 2;
        e.network.azCount = 2;
      }),
      'environment "dev": kafka.brokerCount is 2; allowed: at least 3',
    ],
    [
      "both a hosted zone and a certificate",
      variant(prod, (e) => {
        e.edge.certificateArn = "arn:aws:acm:eu-west-1:333333333333:certificate/abc-123";
      }),
      'environment "prod": edge.certificateArn is "arn:aws:acm:eu-west-1:333333333333:certificate/abc-123"; allowed: absent when edge.hostedZoneId is set (one source of the certificate)',
    ],
    [
      "a certificate from another region",
      variant(dev, (e) => {
        e.edge.certificateArn = "arn:aws:acm:us-east-1:111111111111:certificate/abc-123";
      }),
      `environment "dev": edge.certificateArn is "arn:aws:acm:us-east-1:111111111111:certificate/abc-123"; allowed: a certificate in the environment's region (eu-west-1); an ALB cannot use one from another`,
    ],
    [
      "an unknown Grafana sign-in",
      variant(dev, (e) => {
        (e.observability as { grafanaAuthentication: string }).grafanaAuthentication = "OKTA";
      }),
      'environment "dev": observability.grafanaAuthentication is "OKTA"; allowed: Invalid option: expected one of "AWS_SSO"|"SAML"|"none"',
    ],
    [
      "a trace sample ratio given as a percentage",
      variant(prod, (e) => {
        e.observability.traceSampleRatio = 10;
      }),
      'environment "prod": observability.traceSampleRatio is 10; allowed: a share of the requests from 0 to 1 (0.1 traces one in ten)',
    ],
    [
      "a negative trace sample ratio",
      variant(dev, (e) => {
        e.observability.traceSampleRatio = -0.5;
      }),
      'environment "dev": observability.traceSampleRatio is -0.5; allowed: a share of the requests from 0 to 1 (0.1 traces one in ten)',
    ],
    [
      "disaster recovery in its own region",
      variant(prod, (e) => {
        (e.disasterRecovery as { region: string }).region = "eu-west-1";
      }),
      'environment "prod": disasterRecovery.region is "eu-west-1"; allowed: a region other than the environment\'s (eu-west-1)',
    ],
    [
      "production without disaster recovery",
      variant(prod, (e) => {
        delete e.disasterRecovery;
      }),
      'environment "prod": disasterRecovery is missing; allowed: a second region (RPO under 15 minutes) for the production profile',
    ],
    [
      "an unknown key",
      variant(dev, (e) => {
        (e as Record<string, unknown>).databse = {};
      }),
      'environment "dev": databse is {}; allowed: nothing, it is not a setting of EnvironmentConfig',
    ],
  ])(
    "When an environment has %s, then validation names environment, key, value and what is allowed",
    (_case, env, message) => {
      const others = ENVIRONMENTS.filter((e) => e.name !== (env as { name: string }).name);
      expect(problemsOf([env, ...others])).toEqual(([] as string[]).concat(message));
    },
  );

  it("When the production profile drops its guards, then each missing guard is reported", () => {
    const weakened = variant(prod, (e) => {
      e.database.multiAz = false;
      e.database.deletionProtection = false;
      e.database.finalSnapshot = false;
      e.database.backupRetentionDays = 3;
      (e.network as { natGateways: string }).natGateways = "single";
      e.edge.waf = false;
      e.edge.deletionProtection = false;
    });
    expect(problemsOf([dev, staging, weakened])).toEqual([
      'environment "prod": database.multiAz is false; allowed: true for the production profile',
      'environment "prod": database.deletionProtection is false; allowed: true for the production profile',
      'environment "prod": database.finalSnapshot is false; allowed: true for the production profile',
      'environment "prod": database.backupRetentionDays is 3; allowed: at least 7 for the production profile',
      'environment "prod": network.natGateways is "single"; allowed: "perAz" for the production profile',
      'environment "prod": edge.waf is false; allowed: true for the production profile',
      'environment "prod": edge.deletionProtection is false; allowed: true for the production profile',
    ]);
  });

  it("When two environments' VPC CIDRs overlap, then the second is reported with the first's range", () => {
    const overlapping = variant(staging, (e) => {
      e.network.vpcCidr = "10.10.128.0/17";
    });
    expect(problemsOf([dev, overlapping, prod])).toEqual([
      'environment "staging": network.vpcCidr is "10.10.128.0/17"; allowed: a range not overlapping environment "dev" (10.10.0.0/16), so VPCs can be peered',
    ]);
  });

  it("When two environments share an account and both create the GitHub OIDC provider, then the second must use the existing one", () => {
    const shared = variant(staging, (e) => {
      e.accountId = dev.accountId;
      e.state.bucket = dev.state.bucket;
    });
    expect(problemsOf([dev, shared, prod])).toEqual([
      `environment "staging": githubOidcProvider is "create"; allowed: "existing", because environment "dev" creates the GitHub OIDC provider of account ${dev.accountId} (IAM allows one per account)`,
    ]);
    const existing = variant(shared, (e) => {
      e.githubOidcProvider = "existing";
    });
    expect(problemsOf([dev, existing, prod])).toEqual([]);
  });

  it("When synthesis is started with an invalid environment, then it stops before building any stack", () => {
    const broken = variant(dev, (e) => {
      e.logRetentionDays = 10;
    });
    expect(() => selectEnvironments(undefined, [broken, staging, prod])).toThrow(
      /environment "dev": logRetentionDays is 10; allowed: a CloudWatch Logs retention value/,
    );
  });
});
