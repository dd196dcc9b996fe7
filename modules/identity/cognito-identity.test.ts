import { describe, expect, it } from "vitest";
import { onlyResource, resourcesOf, synthConstruct, synthesizer } from "../testing/synth";
import { CognitoIdentity, type CognitoIdentityProps } from "./cognito-identity";

const props: CognitoIdentityProps = {
  name: "blueprint-prod",
  region: "eu-west-1",
  resourceServerIdentifier: "https://api.example.com",
  scopes: { "users:read": "Read any user", "users:write": "Create users" },
  domainPrefix: "blueprint-prod-333333333333",
};

const synth = synthesizer(CognitoIdentity, "Identity", props);

describe("CognitoIdentity", () => {
  it("When built, then the resource server offers exactly the given scopes, and no app client (nor its secret) is in Terraform", () => {
    const stack = synth();
    expect(onlyResource(stack, "aws_cognito_resource_server")).toMatchObject({
      identifier: "https://api.example.com",
      scope: [
        { scope_name: "users:read", scope_description: "Read any user" },
        { scope_name: "users:write", scope_description: "Create users" },
      ],
    });
    expect(resourcesOf(stack, "aws_cognito_user_pool_client")).toEqual([]);
    expect(onlyResource(stack, "aws_cognito_user_pool_domain")).toMatchObject({
      domain: "blueprint-prod-333333333333",
    });
  });

  it("When built with defaults, then users are created by administrators only and the pool cannot be deleted", () => {
    expect(onlyResource(synth(), "aws_cognito_user_pool")).toMatchObject({
      deletion_protection: "ACTIVE",
      admin_create_user_config: { allow_admin_create_user_only: true },
      mfa_configuration: "OPTIONAL",
      password_policy: { minimum_length: 14 },
      user_pool_tier: "ESSENTIALS",
    });
  });

  it("When threat protection is on, then the pool is on the Plus plan with advanced security enforced", () => {
    expect(onlyResource(synth({ threatProtection: true }), "aws_cognito_user_pool")).toMatchObject({
      user_pool_tier: "PLUS",
      user_pool_add_ons: { advanced_security_mode: "ENFORCED" },
    });
  });

  it("When the services read the settings, then issuer and keys are Cognito's for the pool and the audience is the resource server", () => {
    let identity: CognitoIdentity | undefined;
    synthConstruct((scope) => {
      identity = new CognitoIdentity(scope, "Identity", props);
    });
    // Tokens of the pool id and the resource server identifier, resolved by Terraform.
    const token = "\\$\\{TfToken\\[TOKEN\\.\\d+\\]\\}";
    expect(identity?.verification).toEqual({
      issuer: expect.stringMatching(
        new RegExp(`^https://cognito-idp\\.eu-west-1\\.amazonaws\\.com/${token}$`),
      ),
      audience: expect.stringMatching(new RegExp(`^${token}$`)),
      jwksUrl: expect.stringMatching(
        new RegExp(`^https://cognito-idp\\.eu-west-1\\.amazonaws\\.com/${token}/\\.well-known/jwks\\.json$`),
      ),
    });
    expect(identity?.tokenEndpoint).toMatch(/\.auth\.eu-west-1\.amazoncognito\.com\/oauth2\/token$/);
  });

  it.each([
    [{ scopes: {} }, "CognitoIdentity blueprint-prod: scopes must name at least one scope"],
    [
      { scopes: { "users read": "x" } },
      'CognitoIdentity blueprint-prod: scope names must be printable ASCII without spaces, quotes or backslashes, got "users read"',
    ],
    [
      { domainPrefix: "Blueprint_Prod" },
      'CognitoIdentity blueprint-prod: domainPrefix must be lower-case letters, digits and hyphens (at most 63), got "Blueprint_Prod"',
    ],
    [
      { domainPrefix: "blueprint-cognito" },
      'CognitoIdentity blueprint-prod: domainPrefix must not contain "aws", "amazon" or "cognito", got "blueprint-cognito"',
    ],
  ] as const)("When built with %o, then it fails with %s", (overrides, message) => {
    expect(() => synth(overrides as Partial<CognitoIdentityProps>)).toThrow(message);
  });
});
