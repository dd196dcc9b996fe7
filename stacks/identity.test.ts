import { AUTH_SCOPES } from "@blueprint/service-kit/catalog";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, type EnvironmentConfig } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import type { SynthesizedStack } from "../modules/testing/synth";
import { synthAll } from "./synth-all";

const stacks = synthAll(ENVIRONMENTS);

function stack(id: string, from: Map<string, SynthesizedStack> = stacks): SynthesizedStack {
  const found = from.get(id);
  if (!found) throw new Error(`no stack ${id}; have ${[...from.keys()].join(", ")}`);
  return found;
}

function only(s: SynthesizedStack, type: string): Record<string, unknown> {
  const all = Object.values(s.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0] as Record<string, unknown>;
}

/** The AUTH_* variables each service container gets, by service, on ECS or EKS. */
function authVariables(env: EnvironmentConfig, from: Map<string, SynthesizedStack> = stacks) {
  const pick = (vars: Array<{ name: string; value: string }>) =>
    Object.fromEntries(vars.filter((v) => v.name.startsWith("AUTH_")).map((v) => [v.name, v.value]));
  if (env.compute.kind === "ecs") {
    return Object.values(stack(`${env.name}-compute`, from).resource.aws_ecs_task_definition ?? {})
      .map((d) => JSON.parse(String(d.container_definitions))[0] as { name: string; environment: [] })
      .filter((c) => c.environment.some((v: { name: string }) => v.name === "SERVICE_NAME"))
      .map((c) => pick(c.environment));
  }
  // The services' Deployments only: the cluster autoscaler's has no SERVICE_NAME.
  return Object.values(stack(`${env.name}-workloads`, from).resource.kubernetes_deployment_v1 ?? {})
    .map(
      (d) =>
        (
          d as {
            spec: {
              template: { spec: { container: Array<{ env?: Array<{ name: string; value: string }> }> } };
            };
          }
        ).spec.template.spec.container[0]?.env ?? [],
    )
    .filter((vars) => vars.some((v) => v.name === "SERVICE_NAME"))
    .map(pick);
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("identity of %s", (name, env) => {
  it("When the default identity provider is used, then its resource server offers exactly the catalog's scopes at the API's URL", () => {
    const identity = stack(`${name}-identity`);
    const server = only(identity, "aws_cognito_resource_server");
    expect(server.identifier).toBe(`https://${env.edge.domainName}`);
    expect((server.scope as Array<{ scope_name: string }>).map((s) => s.scope_name)).toEqual(
      Object.keys(AUTH_SCOPES),
    );
    expect(only(identity, "aws_cognito_user_pool")).toMatchObject({
      admin_create_user_config: { allow_admin_create_user_only: true },
      deletion_protection: env.profile === "production" ? "ACTIVE" : "INACTIVE",
    });
    // App clients are made by hand: a client's secret would land in state the plan role reads.
    expect(identity.resource.aws_cognito_user_pool_client).toBeUndefined();
    const outputs = Object.keys(identity.output ?? {}).filter((id) => !id.startsWith("cross-stack-output"));
    expect(outputs.sort()).toEqual([
      "auth_audience",
      "auth_issuer",
      "auth_scopes",
      "auth_token_endpoint",
      "user_pool_id",
    ]);
  });

  it("When the services run, then every one gets the issuer, audience and keys of the environment's pool", () => {
    const variables = authVariables(env);
    expect(variables).toHaveLength(3);
    for (const v of variables) {
      expect(v.AUTH_ISSUER).toMatch(
        /^https:\/\/cognito-idp\.eu-west-1\.amazonaws\.com\/\$\{data\.terraform_remote_state\..*identity/,
      );
      expect(v.AUTH_AUDIENCE).toMatch(/^\$\{data\.terraform_remote_state\..*identity/);
      expect(v.AUTH_JWKS_URL).toMatch(/\/\.well-known\/jwks\.json$/);
    }
  });
});

describe("identity in production", () => {
  it("When prod is synthesized, then its pool enforces threat protection", () => {
    expect(only(stack("prod-identity"), "aws_cognito_user_pool")).toMatchObject({
      user_pool_tier: "PLUS",
      user_pool_add_ons: { advanced_security_mode: "ENFORCED" },
    });
  });
});

describe.each([dev, prod])("an existing identity provider in $name", (env) => {
  const external: EnvironmentConfig = {
    ...env,
    auth: { provider: "external", issuer: "https://login.example.com/tenant", audience: "blueprint-api" },
  };
  const built = synthAll([external]);

  it("When auth.provider is external, then no identity stack is built and every service gets the given settings", () => {
    expect([...built.keys()].filter((id) => id.endsWith("-identity"))).toEqual([]);
    expect(authVariables(external, built)).toEqual(
      Array.from({ length: 3 }, () => ({
        AUTH_ISSUER: "https://login.example.com/tenant",
        AUTH_AUDIENCE: "blueprint-api",
        AUTH_JWKS_URL: "https://login.example.com/tenant/.well-known/jwks.json",
      })),
    );
  });
});
