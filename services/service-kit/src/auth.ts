import type { RequestHandler } from "express";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { AUTH_SCOPES, type AuthScope } from "./catalog";
import type { AuthConfig } from "./config";
import { AppError } from "./errors";
import { requestLogger } from "./request-log";
import { VerifiedTokenCache } from "./token-cache";

/** The only signature algorithms accepted: asymmetric, so services hold no signing secret. */
export const TOKEN_ALGORITHMS = ["RS256", "ES256"] as const;

/** jose error codes meaning the JWKS could not be fetched or read, rather than a bad token. */
const KEYS_UNAVAILABLE: ReadonlySet<string> = new Set(["ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID"]);

/** How many verified tokens are remembered, and for how long at most (see VerifiedTokenCache). */
const CACHED_TOKENS = 10_000;
const CACHED_TOKEN_MAX_AGE_MS = 60_000;

/** Who is calling: the token's subject and the scopes of this API it grants. */
export interface Caller {
  readonly sub: string;
  readonly scopes: ReadonlySet<AuthScope>;
}

const KNOWN_SCOPES: ReadonlySet<string> = new Set(Object.keys(AUTH_SCOPES));

function isAuthScope(name: string): name is AuthScope {
  return KNOWN_SCOPES.has(name);
}

/** A token the service refuses; `reason` is for the service's log only, never for the client. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
    this.name = "InvalidTokenError";
  }
}

function scopeNames(payload: JWTPayload): string[] {
  return typeof payload.scope === "string" ? payload.scope.split(" ").filter((s) => s.length > 0) : [];
}

/**
 * Verifies bearer tokens: signature (RS256 or ES256) against the issuer's keys, `iss`, `exp` and
 * `nbf` with the configured clock skew, then the audience rule:
 *
 * - a token with `aud` must list AUTH_AUDIENCE; its `scope` names the catalog scopes as they are;
 * - a token without `aud` (a Cognito access token) must have `token_use: access`, and prove it was
 *   issued for this API: at least one scope prefixed `<AUTH_AUDIENCE>/`, or a `client_id` listed in
 *   AUTH_CLIENT_IDS. Only the prefixed scopes count, without their prefix.
 *
 * Keys from a JWKS URL are cached; a token signed with an unknown `kid` makes the verifier fetch
 * the set again (at most once per AUTH_JWKS_COOLDOWN_MS), which is how key rotation is picked up.
 * A token verified once is accepted again without a signature check until its `exp`, for at most
 * a minute (VerifiedTokenCache), and only while the key set it was verified against is the current
 * one: a refetched set that differs (a rotation) makes every remembered token be checked again.
 */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  /** The key set as JSON, for remote sets: jose replaces it only inside a key lookup (`keys`). */
  private readonly keySet: () => unknown;
  private keySetJson: string | undefined;
  /** Counts key sets seen; a remembered token holds the one it was verified against. */
  private keySetGeneration = 0;
  private readonly verified = new VerifiedTokenCache<{ caller: Caller; generation: number }>(
    CACHED_TOKENS,
    CACHED_TOKEN_MAX_AGE_MS,
  );

  constructor(
    private readonly config: AuthConfig,
    /** Epoch ms; tests move it to check expiry. */
    private readonly clock: () => number = Date.now,
  ) {
    if (config.AUTH_JWKS) {
      this.keys = createLocalJWKSet(config.AUTH_JWKS as Parameters<typeof createLocalJWKSet>[0]);
      this.keySet = () => undefined;
    } else {
      const remote = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL ?? jwksUrlOf(config.AUTH_ISSUER)), {
        cooldownDuration: config.AUTH_JWKS_COOLDOWN_MS,
        timeoutDuration: 5_000,
      });
      this.keys = remote;
      this.keySet = () => remote.jwks();
    }
  }

  async verify(token: string): Promise<Caller> {
    const now = this.clock();
    const cached = this.verified.get(token, now);
    if (cached && cached.generation === this.keySetGeneration) return cached.caller;
    const { caller, validUntil, generation } = await this.verifySignedToken(token, now);
    if (generation !== undefined) this.verified.set(token, { caller, generation }, now, validUntil);
    return caller;
  }

  /** Notes a new key set, once jose fetched one that differs. */
  private noteKeySet(): number {
    const json = JSON.stringify(this.keySet() ?? null);
    if (json !== this.keySetJson) {
      this.keySetJson = json;
      this.keySetGeneration += 1;
    }
    return this.keySetGeneration;
  }

  /** The caller of `token` and until when (epoch ms) its claims are valid, after checking it in full. */
  private async verifySignedToken(
    token: string,
    now: number,
  ): Promise<{ caller: Caller; validUntil: number; generation: number | undefined }> {
    let payload: JWTPayload;
    // The key set the signature was checked against; undefined (not remembered) if it changed meanwhile.
    let generation: number | undefined;
    const keyOfCurrentSet: JWTVerifyGetKey = async (header, signed) => {
      const before = this.noteKeySet();
      try {
        return await this.keys(header, signed);
      } finally {
        // Also when the lookup fails: a refetched set without this token's key is still a new set,
        // and the tokens remembered under the old one must be checked again.
        generation = this.noteKeySet() === before ? before : undefined;
      }
    };
    try {
      ({ payload } = await jwtVerify(token, keyOfCurrentSet, {
        issuer: this.config.AUTH_ISSUER,
        algorithms: [...TOKEN_ALGORITHMS],
        clockTolerance: this.config.AUTH_CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp", "sub"],
        currentDate: new Date(now),
      }));
    } catch (error) {
      // The issuer's keys out of reach is not the caller's fault: 503, retry shortly.
      if (!(error instanceof errors.JOSEError) || KEYS_UNAVAILABLE.has(error.code)) {
        throw AppError.unavailable("the token issuer's keys cannot be fetched; retry shortly");
      }
      throw new InvalidTokenError(error.code);
    }
    if (typeof payload.sub !== "string" || payload.sub.length === 0) {
      throw new InvalidTokenError("sub is not a non-empty string");
    }
    // jose refuses a token once now - skew >= exp; `exp` is required, so it is a number here.
    const validUntil = ((payload.exp ?? 0) + this.config.AUTH_CLOCK_SKEW_SECONDS) * 1000;
    return {
      caller: { sub: payload.sub, scopes: new Set(this.grantedScopes(payload)) },
      validUntil,
      generation,
    };
  }

  private grantedScopes(payload: JWTPayload): AuthScope[] {
    const audience = this.config.AUTH_AUDIENCE;
    const tokenUse = payload.token_use;
    if (tokenUse !== undefined && tokenUse !== "access") {
      throw new InvalidTokenError(`token_use is ${String(tokenUse)}, not access`);
    }
    if (payload.aud !== undefined) {
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!audiences.includes(audience)) throw new InvalidTokenError("aud does not name this API");
      return scopeNames(payload).filter(isAuthScope);
    }
    if (tokenUse !== "access") throw new InvalidTokenError("no aud and not an access token");
    const prefix = `${audience}/`;
    const ours = scopeNames(payload)
      .filter((scope) => scope.startsWith(prefix))
      .map((scope) => scope.slice(prefix.length));
    const clientId = payload.client_id;
    const knownClient = typeof clientId === "string" && this.config.AUTH_CLIENT_IDS.includes(clientId);
    if (ours.length === 0 && !knownClient) {
      throw new InvalidTokenError("no aud, no scope of this API and client_id not in AUTH_CLIENT_IDS");
    }
    return ours.filter(isAuthScope);
  }
}

/** Where an issuer publishes its keys by convention (OpenID Connect discovery, Cognito). */
export function jwksUrlOf(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;
}

/** Caller of the request, set by `authenticate` (`res.locals` holds it per request). */
export function callerOf(res: Parameters<RequestHandler>[1]): Caller {
  const caller = (res.locals as { caller?: Caller }).caller;
  if (!caller) throw new Error("no caller: the route was mounted without authentication");
  return caller;
}

/**
 * A bearer token as a compact JWS only: three base64url parts, no padding or `+`/`/`, which jose
 * would also decode and so turn one token into many distinct strings (cache entries), and at most
 * 8 KiB, well above any issuer's access token.
 */
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
const MAX_TOKEN_LENGTH = 8_192;

/**
 * 401 with the RFC 6750 challenge. A request without bearer credentials gets no error code;
 * a token that is malformed, expired, wrongly signed or for another API gets `invalid_token`,
 * with no hint of which check failed.
 */
function unauthorized(realm: string, invalid: boolean): AppError {
  const challenge = invalid ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`;
  return new AppError(
    401,
    invalid ? "invalid_token" : "unauthorized",
    invalid ? "the access token is not valid" : "a bearer access token is required",
    [],
    { "www-authenticate": challenge },
  );
}

/** 403 with the RFC 6750 `insufficient_scope` challenge naming the scope that would grant the request. */
export function forbidden(realm: string, scope: AuthScope, ownerRule: boolean): AppError {
  return new AppError(
    403,
    "insufficient_scope",
    ownerRule
      ? `requires scope ${scope}, or a token whose subject is the user the request is about`
      : `requires scope ${scope}`,
    [],
    { "www-authenticate": `Bearer realm="${realm}", error="insufficient_scope", scope="${scope}"` },
  );
}

/**
 * Middleware that admits only requests with a valid bearer token and records the caller. Mounted
 * before body parsing, so an unauthenticated request's body is never read.
 */
export function authenticate(verifier: TokenVerifier, realm: string): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match?.[1] || match[1].length > MAX_TOKEN_LENGTH) {
      // Another scheme (Basic) is no bearer credential; "Bearer" with something unusable is an invalid token.
      next(unauthorized(realm, header !== undefined && /^Bearer\b/i.test(header)));
      return;
    }
    verifier.verify(match[1]).then(
      (caller) => {
        res.locals.caller = caller;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof InvalidTokenError)) {
          next(error);
          return;
        }
        requestLogger(req)?.info({ reason: error.reason }, "token refused");
        next(unauthorized(realm, true));
      },
    );
  };
}
