import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { prod } from "../../../environments/prod";
import type { EnvironmentConfig } from "../../../environments/types";
import { type AwsClients, formatReport, runChecks, type Sender } from "../src/checks";

type Recording = Record<string, unknown>;

function recording(name: string): Recording {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "recorded", `${name}.json`), "utf8")) as Recording;
}

/** A client answering each SDK command from a recording, failing as AWS does where it has no answer. */
function replay(recorded: Recording, calls: string[] = []): Sender {
  return {
    send: async (command: { constructor: { name: string }; input: Record<string, string> }) => {
      const name = command.constructor.name;
      calls.push(name);
      const answer = recorded[name];
      if (name === "GetRoleCommand") {
        const role = command.input.RoleName as string;
        if (answer === "*") return { Role: { RoleName: role } };
        const found = (answer as Record<string, unknown>)[role];
        if (found) return found;
        throw Object.assign(new Error(`The role with name ${role} cannot be found.`), {
          name: "NoSuchEntityException",
        });
      }
      if (name === "GetServiceQuotaCommand")
        return (answer as Record<string, unknown>)[command.input.QuotaCode as string];
      if (answer === undefined)
        throw Object.assign(new Error(`no recorded ${name}`), { name: "AccessDeniedException" });
      return answer;
    },
  };
}

function clients(recorded: Recording): AwsClients {
  const sender = replay(recorded);
  return {
    sts: sender,
    iam: sender,
    ssoAdmin: sender,
    serviceQuotas: sender,
    lambda: sender,
    codebuild: sender,
  };
}

const withSso: EnvironmentConfig = {
  ...prod,
  observability: { ...prod.observability, grafanaAuthentication: "AWS_SSO" },
};

describe("preflight", () => {
  it("When the account is fresh, then each missing prerequisite fails or warns with the command that fixes it", async () => {
    const results = await runChecks(withSso, clients(recording("new-account")));
    const byCheck = new Map(results.map((r) => [r.check, r]));
    expect(byCheck.get("account")?.status).toBe("ok");
    expect(byCheck.get("github-oidc-provider")).toMatchObject({ status: "warn" });
    expect(byCheck.get("github-oidc-provider")?.action).toContain("Import it into prod-bootstrap");
    expect(byCheck.get("identity-center")).toMatchObject({ status: "fail" });
    expect(byCheck.get("identity-center")?.action).toContain('set grafanaAuthentication to "SAML" or "none"');
    expect(byCheck.get("service-linked-role AWSServiceRoleForAmazonEKS")).toMatchObject({
      status: "warn",
      action: "aws iam create-service-linked-role --aws-service-name eks.amazonaws.com",
    });
    expect(byCheck.get("service-linked-role AWSServiceRoleForRDS")?.status).toBe("ok");
    expect(byCheck.get("quota Running On-Demand Standard instances, vCPUs (nodes at nodeMax)")).toMatchObject(
      {
        status: "fail",
        detail: "quota is 16, the environment needs 48",
        action:
          "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A --desired-value 48",
      },
    );
    expect(byCheck.get("lambda-concurrency")?.status).toBe("fail");
    expect(byCheck.get("codebuild-github-credentials")?.status).toBe("fail");
  });

  it("When the account is prepared, then every check passes and the report says to continue", async () => {
    const results = await runChecks(withSso, clients(recording("ready-account")));
    expect(results.filter((r) => r.status !== "ok")).toEqual([]);
    expect(formatReport(withSso, results)).toContain("Nothing to do: continue with docs/first-apply.md.");
  });

  it("When the credentials belong to another account, then the account check fails naming both", async () => {
    const recorded = {
      ...recording("ready-account"),
      GetCallerIdentityCommand: { Account: "999999999999", Arn: "x" },
    };
    const results = await runChecks(prod, clients(recorded));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      status: "fail",
      detail: 'credentials are for account 999999999999, environment "prod" deploys into 333333333333',
    });
  });

  it("When Grafana signs in with SAML, then Identity Center is not asked about", async () => {
    const calls: string[] = [];
    const sender = replay(recording("ready-account"), calls);
    await runChecks(prod, {
      sts: sender,
      iam: sender,
      ssoAdmin: sender,
      serviceQuotas: sender,
      lambda: sender,
      codebuild: sender,
    });
    expect(prod.observability.grafanaAuthentication).toBe("SAML");
    expect(calls).not.toContain("ListInstancesCommand");
  });

  it("When a call is denied, then that check fails naming the error and the others still run", async () => {
    const { ListOpenIDConnectProvidersCommand: _denied, ...recorded } = recording("ready-account");
    const results = await runChecks(prod, clients(recorded));
    expect(results.find((r) => r.check === "github-oidc-provider")).toMatchObject({
      status: "fail",
      detail: "AccessDeniedException: no recorded ListOpenIDConnectProvidersCommand",
    });
    expect(results.find((r) => r.check === "lambda-concurrency")?.status).toBe("ok");
  });

  it("When problems are found, then the report lists failures before warnings with what to do", async () => {
    const report = formatReport(withSso, await runChecks(withSso, clients(recording("new-account"))));
    const todo = report.slice(report.indexOf("To do before the first apply:"));
    expect(todo.indexOf("identity-center")).toBeLessThan(todo.indexOf("github-oidc-provider"));
    expect(report).toContain("FAIL identity-center: observability.grafanaAuthentication is AWS_SSO");
  });
});
