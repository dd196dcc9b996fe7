import { ListSourceCredentialsCommand } from "@aws-sdk/client-codebuild";
import { GetRoleCommand, ListOpenIDConnectProvidersCommand } from "@aws-sdk/client-iam";
import { GetAccountSettingsCommand } from "@aws-sdk/client-lambda";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { ListInstancesCommand } from "@aws-sdk/client-sso-admin";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { EnvironmentConfig } from "../../../environments";

/** What a client needs for preflight: the SDK v3 `send`. Tests pass recorded responses instead. */
export interface Sender {
  // biome-ignore lint/suspicious/noExplicitAny: each SDK client types its own command union.
  send(command: any): Promise<any>;
}

/** One SDK v3 client per AWS service the checks ask. */
export interface AwsClients {
  readonly sts: Sender;
  readonly iam: Sender;
  readonly ssoAdmin: Sender;
  readonly serviceQuotas: Sender;
  readonly lambda: Sender;
  readonly codebuild: Sender;
}

export type Status = "ok" | "warn" | "fail";

export interface CheckResult {
  readonly check: string;
  readonly status: Status;
  /** What was found. */
  readonly detail: string;
  /** What to do, when something is. */
  readonly action?: string;
}

const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** Service-linked roles the first apply needs; AWS creates each the first time, if the caller may. */
export const SERVICE_LINKED_ROLES: ReadonlyArray<{
  role: string;
  service: string;
  needed: (env: EnvironmentConfig) => boolean;
}> = [
  {
    role: "AWSServiceRoleForElasticLoadBalancing",
    service: "elasticloadbalancing.amazonaws.com",
    needed: () => true,
  },
  { role: "AWSServiceRoleForRDS", service: "rds.amazonaws.com", needed: () => true },
  { role: "AWSServiceRoleForKafka", service: "kafka.amazonaws.com", needed: () => true },
  { role: "AWSServiceRoleForECS", service: "ecs.amazonaws.com", needed: (env) => env.compute.kind === "ecs" },
  {
    role: "AWSServiceRoleForApplicationAutoScaling_ECSService",
    service: "ecs.application-autoscaling.amazonaws.com",
    needed: (env) => env.compute.kind === "ecs",
  },
  {
    role: "AWSServiceRoleForAmazonEKS",
    service: "eks.amazonaws.com",
    needed: (env) => env.compute.kind === "eks",
  },
  {
    role: "AWSServiceRoleForAmazonEKSNodegroup",
    service: "eks-nodegroup.amazonaws.com",
    needed: (env) => env.compute.kind === "eks",
  },
  {
    role: "AWSServiceRoleForAutoScaling",
    service: "autoscaling.amazonaws.com",
    needed: (env) => env.compute.kind === "eks",
  },
  {
    role: "AWSServiceRoleForAmazonGrafana",
    service: "grafana.amazonaws.com",
    needed: (env) => env.observability.grafanaAuthentication !== "none",
  },
];

/** vCPUs by instance size, for the On-Demand vCPU quota. */
const VCPUS: Readonly<Record<string, number>> = {
  medium: 1,
  large: 2,
  xlarge: 4,
  "2xlarge": 8,
  "4xlarge": 16,
  "8xlarge": 32,
};

/** Quotas whose defaults a new account can fall below what the environment creates. */
export function quotaNeeds(env: EnvironmentConfig): ReadonlyArray<{
  name: string;
  serviceCode: string;
  quotaCode: string;
  needed: number;
}> {
  const natGateways = env.network.natGateways === "perAz" ? env.network.azCount : 1;
  const needs = [
    { name: "VPCs per region", serviceCode: "vpc", quotaCode: "L-F678F1CE", needed: 1 },
    {
      name: "Elastic IP addresses (one per NAT gateway)",
      serviceCode: "ec2",
      quotaCode: "L-0263D0A3",
      needed: natGateways,
    },
  ];
  const eks = env.compute.eks;
  if (eks) {
    const vcpus = Math.max(...eks.nodeInstanceTypes.map((t) => VCPUS[t.split(".")[1] ?? ""] ?? 0));
    needs.push({
      name: "Running On-Demand Standard instances, vCPUs (nodes at nodeMax)",
      serviceCode: "ec2",
      quotaCode: "L-1216C47A",
      needed: eks.nodeMax * vcpus,
    });
  }
  return needs;
}

/** Unreserved concurrency Lambda keeps, plus the provisioner's one run. */
const LAMBDA_MINIMUM_CONCURRENCY = 11;

/**
 * Every preflight check of `env` against the account the clients reach. Never throws for what it
 * finds: each problem is a result with what to do; an AWS error becomes a `fail` naming the call.
 */
export async function runChecks(env: EnvironmentConfig, aws: AwsClients): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const attempt = async (check: string, run: () => Promise<CheckResult | CheckResult[]>) => {
    try {
      results.push(...([] as CheckResult[]).concat(await run()));
    } catch (error) {
      const name = (error as { name?: string }).name ?? "Error";
      results.push({
        check,
        status: "fail",
        detail: `${name}: ${(error as Error).message}`,
        action:
          "Run with credentials allowed to read IAM, STS, Service Quotas, Lambda and IAM Identity Center",
      });
    }
  };

  await attempt("account", async () => {
    const identity = await aws.sts.send(new GetCallerIdentityCommand({}));
    return identity.Account === env.accountId
      ? { check: "account", status: "ok", detail: `credentials are for ${env.accountId} (${identity.Arn})` }
      : {
          check: "account",
          status: "fail",
          detail: `credentials are for account ${identity.Account}, environment "${env.name}" deploys into ${env.accountId}`,
          action: `Use credentials of account ${env.accountId} (AWS_PROFILE or aws sso login)`,
        };
  });

  // Without credentials of the right account every other answer would be about the wrong account.
  if (results[0]?.status !== "ok") return results;

  await attempt("github-oidc-provider", async () => {
    const { OpenIDConnectProviderList = [] } = await aws.iam.send(new ListOpenIDConnectProvidersCommand({}));
    const existing = (OpenIDConnectProviderList as Array<{ Arn?: string }>).find((p) =>
      p.Arn?.endsWith(`oidc-provider/${GITHUB_OIDC_HOST}`),
    );
    return existing
      ? {
          check: "github-oidc-provider",
          status: "warn",
          detail: `the account already has the GitHub OIDC provider ${existing.Arn}; IAM allows one per URL`,
          action: `Import it into ${env.name}-bootstrap before its first apply (docs/first-apply.md, step 1), or creating it fails with EntityAlreadyExists`,
        }
      : {
          check: "github-oidc-provider",
          status: "ok",
          detail: "no GitHub OIDC provider yet; the bootstrap stack creates it",
        };
  });

  if (env.observability.grafanaAuthentication === "AWS_SSO") {
    await attempt("identity-center", async () => {
      const { Instances = [] } = await aws.ssoAdmin.send(new ListInstancesCommand({}));
      return Instances.length > 0
        ? {
            check: "identity-center",
            status: "ok",
            detail: `IAM Identity Center instance ${Instances[0].InstanceArn}`,
          }
        : {
            check: "identity-center",
            status: "fail",
            detail: "observability.grafanaAuthentication is AWS_SSO but IAM Identity Center is not enabled",
            action: `Enable IAM Identity Center in ${env.region} (console: IAM Identity Center > Enable), or set grafanaAuthentication to "SAML" or "none" in environments/${env.name}.ts`,
          };
    });
  }

  if (env.compute.kind === "eks") {
    await attempt("codebuild-github-credentials", async () => {
      const { sourceCredentialsInfos = [] } = await aws.codebuild.send(new ListSourceCredentialsCommand({}));
      const github = (sourceCredentialsInfos as Array<{ serverType?: string; arn?: string }>).find(
        (c) => c.serverType === "GITHUB",
      );
      return github
        ? {
            check: "codebuild-github-credentials",
            status: "ok",
            detail: `CodeBuild reaches GitHub with ${github.arn}`,
          }
        : {
            check: "codebuild-github-credentials",
            status: "fail",
            detail:
              "CodeBuild has no GitHub credentials; the compute stack's runner webhook cannot be created without them",
            action: `Create a CodeConnections connection to GitHub (console: Developer Tools > Connections), then aws codebuild import-source-credentials --region ${env.region} --server-type GITHUB --auth-type CODECONNECTIONS --token <connection ARN>`,
          };
    });
  }

  for (const { role, service, needed } of SERVICE_LINKED_ROLES) {
    if (!needed(env)) continue;
    await attempt(`service-linked-role ${role}`, async () => {
      try {
        await aws.iam.send(new GetRoleCommand({ RoleName: role }));
        return { check: `service-linked-role ${role}`, status: "ok", detail: "exists" };
      } catch (error) {
        if ((error as { name?: string }).name !== "NoSuchEntityException") throw error;
        return {
          check: `service-linked-role ${role}`,
          status: "warn",
          detail:
            "missing; AWS creates it on first use only if the applying role may iam:CreateServiceLinkedRole",
          action: `aws iam create-service-linked-role --aws-service-name ${service}`,
        };
      }
    });
  }

  for (const need of quotaNeeds(env)) {
    await attempt(`quota ${need.name}`, async () => {
      const { Quota } = await aws.serviceQuotas.send(
        new GetServiceQuotaCommand({ ServiceCode: need.serviceCode, QuotaCode: need.quotaCode }),
      );
      const value = Number(Quota?.Value ?? 0);
      return value >= need.needed
        ? { check: `quota ${need.name}`, status: "ok", detail: `${value} available, ${need.needed} needed` }
        : {
            check: `quota ${need.name}`,
            status: "fail",
            detail: `quota is ${value}, the environment needs ${need.needed}`,
            action: `aws service-quotas request-service-quota-increase --service-code ${need.serviceCode} --quota-code ${need.quotaCode} --desired-value ${need.needed}`,
          };
    });
  }

  await attempt("lambda-concurrency", async () => {
    const { AccountLimit } = await aws.lambda.send(new GetAccountSettingsCommand({}));
    const limit = Number(AccountLimit?.ConcurrentExecutions ?? 0);
    return limit >= LAMBDA_MINIMUM_CONCURRENCY
      ? { check: "lambda-concurrency", status: "ok", detail: `${limit} concurrent executions` }
      : {
          check: "lambda-concurrency",
          status: "fail",
          detail: `the account allows ${limit} concurrent Lambda executions; the topic provisioner needs one above the ${LAMBDA_MINIMUM_CONCURRENCY - 1} Lambda keeps unreserved`,
          action:
            "aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 100",
        };
  });

  return results;
}

/** The report as printed: one line per check, then what to do, failures first. */
export function formatReport(env: EnvironmentConfig, results: readonly CheckResult[]): string {
  const mark: Record<Status, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };
  const lines = [`Preflight of environment "${env.name}" (account ${env.accountId}, ${env.region})`, ""];
  for (const r of results) lines.push(`${mark[r.status]} ${r.check}: ${r.detail}`);
  const todo = [
    ...results.filter((r) => r.status === "fail"),
    ...results.filter((r) => r.status === "warn"),
  ].filter((r) => r.action);
  if (todo.length > 0) {
    lines.push("", "To do before the first apply:");
    for (const [i, r] of todo.entries()) lines.push(`  ${i + 1}. ${r.check}: ${r.action}`);
  } else {
    lines.push("", "Nothing to do: continue with docs/first-apply.md.");
  }
  return lines.join("\n");
}
