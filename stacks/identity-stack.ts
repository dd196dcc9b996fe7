import { AUTH_SCOPES } from "@blueprint/service-kit/catalog";
import type { Construct } from "constructs";
import type { AuthSetting } from "../environments/types";
import { CognitoIdentity, type TokenVerification } from "../modules/identity/cognito-identity";
import { EnvironmentStack, type LayerStackProps } from "./environment-stack";

/**
 * Identity layer, when the environment uses the default identity provider: a Cognito user pool
 * whose resource server offers the catalog's scopes (AUTH_SCOPES), identified by the API's URL.
 */
export class IdentityStack extends EnvironmentStack {
  readonly identity: CognitoIdentity;

  constructor(scope: Construct, props: LayerStackProps) {
    super(scope, { env: props.env, layer: "identity" });
    const { env } = this;
    const provider = env.auth?.provider ?? "cognito";
    if (provider !== "cognito") {
      throw new Error(
        `IdentityStack ${env.name}: auth.provider is "${provider}"; this stack builds Cognito only`,
      );
    }
    this.identity = new CognitoIdentity(this, "Identity", {
      name: this.namePrefix,
      region: env.region,
      resourceServerIdentifier: `https://${env.edge.domainName}`,
      scopes: AUTH_SCOPES,
      // Prefixes are unique per region across all accounts; the account id makes ours so.
      domainPrefix: `${this.namePrefix}-${env.accountId}`,
      deletionProtection: env.profile === "production",
      threatProtection: env.profile === "production",
    });
    const { verification } = this.identity;
    this.output(
      "auth_issuer",
      verification.issuer,
      "Issuer of the access tokens (AUTH_ISSUER of the services)",
    );
    this.output(
      "auth_audience",
      verification.audience,
      "Resource server identifier; scopes are <audience>/<scope>",
    );
    this.output(
      "auth_token_endpoint",
      this.identity.tokenEndpoint,
      "OAuth 2.0 token endpoint callers obtain tokens from",
    );
    this.output(
      "auth_scopes",
      this.identity.scopeIdentifiers,
      "Scopes as clients ask for them and tokens carry them: <audience>/<scope>",
    );
    this.output(
      "user_pool_id",
      this.identity.userPool.id,
      "Cognito user pool; app clients are created in it by hand",
    );
  }
}

/** How the services verify tokens: from the identity stack, or from an external provider's settings. */
export function tokenVerification(scope: Construct, env: LayerStackProps["env"]): TokenVerification {
  const auth: AuthSetting = env.auth ?? { provider: "cognito" };
  if (auth.provider === "external") {
    return {
      issuer: auth.issuer,
      audience: auth.audience,
      jwksUrl: auth.jwksUrl ?? `${auth.issuer}/.well-known/jwks.json`,
    };
  }
  return new IdentityStack(scope, { env }).identity.verification;
}
