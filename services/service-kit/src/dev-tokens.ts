import { createPrivateKey, generateKeyPairSync, type JsonWebKey, randomBytes, sign } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { JWK } from "jose";
import { AUTH_SCOPES, type AuthScope } from "./catalog";

/*
 * The development issuer: one signing key kept under the local directory (BLUEPRINT_LOCAL_DIR,
 * `.local/` by default, never committed), created on first use. The local stack, the tests, the
 * demo and the benchmarks sign their tokens with it, and give the services its public key inline
 * (AUTH_JWKS). Nothing deployed trusts it.
 */

/** `iss` of development tokens. */
export const LOCAL_ISSUER = "http://localhost/blueprint-local-issuer";
/** `aud` of development tokens: the API identifier the local services expect. */
export const LOCAL_AUDIENCE = "blueprint-local";

const ALGORITHM = "ES256";
const KEY_FILE = path.join("auth", "dev-signing-key.json");

/** Every scope of the catalog: what `--admin` tokens hold. */
export const ALL_SCOPES = Object.keys(AUTH_SCOPES) as AuthScope[];

/** The local directory the repository's tools share: BLUEPRINT_LOCAL_DIR or `<repo>/.local`. */
export function localDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.BLUEPRINT_LOCAL_DIR ?? path.resolve(__dirname, "../../../.local"));
}

/** A fresh ES256 key pair as a private JWK with its `kid`, `alg` and `use`. */
export function newSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" }) as JWK;
  return { ...jwk, kid: `dev-${randomBytes(6).toString("hex")}`, alg: ALGORITHM, use: "sig" };
}

/** The public half of a private JWK. */
export function publicKey(jwk: JWK): JWK {
  const { d: _private, ...rest } = jwk;
  return rest;
}

/**
 * The development signing key under `localDir`, created on first use. Parallel first uses (test
 * workers) agree on one key: each writes its own file and links it into place, and whoever loses
 * the race reads the winner's.
 */
export function devSigningKey(localDir: string = localDirectory()): JWK {
  const file = path.join(localDir, KEY_FILE);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    fs.writeFileSync(draft, JSON.stringify(newSigningKey()), { mode: 0o600 });
    try {
      fs.linkSync(draft, file);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(draft, { force: true });
    }
  }
  const key = JSON.parse(fs.readFileSync(file, "utf8")) as JWK;
  if (typeof key.d !== "string" || typeof key.kid !== "string") {
    throw new Error(`${file} is not a private JWK with a kid; delete it to have a new one made`);
  }
  return key;
}

/** The auth settings of a service that trusts the development key (and only it). */
export function localAuthEnv(localDir: string = localDirectory()): Record<string, string> {
  return {
    AUTH_ISSUER: LOCAL_ISSUER,
    AUTH_AUDIENCE: LOCAL_AUDIENCE,
    AUTH_JWKS: JSON.stringify({ keys: [publicKey(devSigningKey(localDir))] }),
  };
}

export interface TokenClaims {
  readonly sub: string;
  /** Scopes granted; none by default (the caller reaches only its own resources). */
  readonly scopes?: readonly string[];
  /** @default 3600 */
  readonly expiresInSeconds?: number;
  /** @default LOCAL_ISSUER */
  readonly issuer?: string;
  /** @default LOCAL_AUDIENCE */
  readonly audience?: string;
  /** Seconds added to the issue time and `nbf` (negative: issued in the past). @default 0 */
  readonly shiftSeconds?: number;
}

/**
 * Signs a token with `key` (a private EC P-256 or RSA JWK): `iss`, `aud`, `sub`, `scope`, `iat`,
 * `nbf`, `exp`. Synchronous (node:crypto), so tests and tools can make tokens inline; the services
 * verify them with jose, which checks this encoding independently.
 */
export function signToken(key: JWK, claims: TokenClaims): string {
  const now = Math.floor(Date.now() / 1000) + (claims.shiftSeconds ?? 0);
  const alg = key.kty === "RSA" ? "RS256" : ALGORITHM;
  const header = { alg, kid: key.kid, typ: "JWT" };
  const payload = {
    ...(claims.scopes && claims.scopes.length > 0 ? { scope: claims.scopes.join(" ") } : {}),
    iss: claims.issuer ?? LOCAL_ISSUER,
    aud: claims.audience ?? LOCAL_AUDIENCE,
    sub: claims.sub,
    iat: now,
    nbf: now,
    exp: now + (claims.expiresInSeconds ?? 3600),
  };
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const privateKey = createPrivateKey({ key: key as JsonWebKey, format: "jwk" });
  // JWS wants ECDSA signatures as r || s, not DER.
  const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** A token from the development issuer. */
export function devToken(claims: TokenClaims, localDir: string = localDirectory()): string {
  return signToken(devSigningKey(localDir), claims);
}
