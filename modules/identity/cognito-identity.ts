import { CognitoResourceServer } from "@cdktf/provider-aws/lib/cognito-resource-server";
import { CognitoUserPool } from "@cdktf/provider-aws/lib/cognito-user-pool";
import { CognitoUserPoolDomain } from "@cdktf/provider-aws/lib/cognito-user-pool-domain";
import { Token } from "cdktf";
import { Construct } from "constructs";

/** What the services need to verify tokens, whoever issues them. */
export interface TokenVerification {
  /** Issuer URL as in the tokens' `iss` claim. */
  readonly issuer: string;
  /** What the services require of a token: `aud`, or for Cognito the resource server identifier its scopes carry. */
  readonly audience: string;
  /** Where the signing keys are. */
  readonly jwksUrl: string;
}

export interface CognitoIdentityProps {
  /** User pool name, e.g. `blueprint-prod`. */
  readonly name: string;
  readonly region: string;
  /**
   * Identifier of the resource server, e.g. `https://api.blueprint.example.com`: the services'
   * audience, and the prefix of every scope in a token (`<identifier>/users:read`).
   */
  readonly resourceServerIdentifier: string;
  /** Scope name -> what it grants; the resource server offers exactly these. */
  readonly scopes: Readonly<Record<string, string>>;
  /** Prefix of the sign-in and token domain, `<prefix>.auth.<region>.amazoncognito.com`; unique in the region. */
  readonly domainPrefix: string;
  /** Refuse to delete the pool and its users. @default true */
  readonly deletionProtection?: boolean;
  /**
   * Threat protection (compromised credentials, adaptive authentication) enforced; needs the Plus
   * feature plan, billed per monthly active user. @default false
   */
  readonly threatProtection?: boolean;
}

const SCOPE_NAME = /^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+$/;
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The environment's default identity provider: a Cognito user pool whose users an administrator
 * creates (no self sign-up), with a resource server offering the APIs' scopes and a sign-in and
 * token domain. App clients are created outside Terraform (docs/infrastructure.md, "Identity
 * provider"): Cognito returns a client's secret to whoever may read the client, so a client in
 * Terraform would put secrets in state and require the plan role to read them.
 */
export class CognitoIdentity extends Construct {
  readonly userPool: CognitoUserPool;
  readonly resourceServer: CognitoResourceServer;
  readonly domain: CognitoUserPoolDomain;
  /** Issuer, audience and keys, for the services. */
  readonly verification: TokenVerification;
  /** The OAuth token endpoint callers obtain tokens from. */
  readonly tokenEndpoint: string;
  /** Scopes as clients ask for them and tokens carry them: `<resource server identifier>/<scope>`. */
  readonly scopeIdentifiers: string[];

  constructor(scope: Construct, id: string, props: CognitoIdentityProps) {
    super(scope, id);
    const owner = `CognitoIdentity ${props.name}`;
    const deletionProtection = props.deletionProtection ?? true;
    const threatProtection = props.threatProtection ?? false;
    validate(owner, props);

    this.userPool = new CognitoUserPool(this, "UserPool", {
      name: props.name,
      deletionProtection: deletionProtection ? "ACTIVE" : "INACTIVE",
      userPoolTier: threatProtection ? "PLUS" : "ESSENTIALS",
      userPoolAddOns: threatProtection ? { advancedSecurityMode: "ENFORCED" } : undefined,
      usernameAttributes: ["email"],
      autoVerifiedAttributes: ["email"],
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      mfaConfiguration: "OPTIONAL",
      softwareTokenMfaConfiguration: { enabled: true },
      passwordPolicy: {
        minimumLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
        passwordHistorySize: 5,
        temporaryPasswordValidityDays: 3,
      },
      accountRecoverySetting: { recoveryMechanism: [{ name: "verified_email", priority: 1 }] },
    });
    this.resourceServer = new CognitoResourceServer(this, "ResourceServer", {
      userPoolId: this.userPool.id,
      identifier: props.resourceServerIdentifier,
      name: `${props.name} APIs`,
      scope: Object.entries(props.scopes).map(([scopeName, scopeDescription]) => ({
        scopeName,
        scopeDescription,
      })),
    });
    this.domain = new CognitoUserPoolDomain(this, "Domain", {
      domain: props.domainPrefix,
      userPoolId: this.userPool.id,
    });
    const issuer = `https://cognito-idp.${props.region}.amazonaws.com/${this.userPool.id}`;
    this.verification = {
      issuer,
      audience: this.resourceServer.identifier,
      jwksUrl: `${issuer}/.well-known/jwks.json`,
    };
    this.tokenEndpoint = `https://${this.domain.domain}.auth.${props.region}.amazoncognito.com/oauth2/token`;
    this.scopeIdentifiers = Object.keys(props.scopes).map((s) => `${this.resourceServer.identifier}/${s}`);
  }
}

function validate(owner: string, props: CognitoIdentityProps): void {
  const scopes = Object.keys(props.scopes);
  if (scopes.length === 0) throw new Error(`${owner}: scopes must name at least one scope`);
  const badScope = scopes.find((s) => !SCOPE_NAME.test(s));
  if (badScope !== undefined) {
    throw new Error(
      `${owner}: scope names must be printable ASCII without spaces, quotes or backslashes, got "${badScope}"`,
    );
  }
  if (scopes.length > 100)
    throw new Error(`${owner}: a resource server offers at most 100 scopes, got ${scopes.length}`);
  if (!Token.isUnresolved(props.domainPrefix) && !DOMAIN_PREFIX.test(props.domainPrefix)) {
    throw new Error(
      `${owner}: domainPrefix must be lower-case letters, digits and hyphens (at most 63), got "${props.domainPrefix}"`,
    );
  }
  if (/aws|amazon|cognito/.test(props.domainPrefix)) {
    throw new Error(
      `${owner}: domainPrefix must not contain "aws", "amazon" or "cognito", got "${props.domainPrefix}"`,
    );
  }
}
