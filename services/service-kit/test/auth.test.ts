import { createHmac, createPublicKey, generateKeyPairSync, type JsonWebKey, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { importJWK, type JWK, SignJWT } from "jose";
import request from "supertest";
import { notificationService } from "../../notification-service/src/service";
import { orderService } from "../../order-service/src/service";
import { api, bearer, tokenFor } from "../../system-tests/support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  type ServiceKey,
  serviceEnv,
} from "../../system-tests/support/environment";
import { userService } from "../../user-service/src/service";
import {
  AUTH_SCOPES,
  type AuthScope,
  authConfigSchema,
  ConfigError,
  loadConfig,
  type RunningService,
  serviceEntries,
  startService,
} from "../src";
import {
  devSigningKey,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  localAuthEnv,
  newSigningKey,
  publicKey,
  signToken,
} from "../src/dev-tokens";

const PROBLEM = /^application\/problem\+json/;
const ALL = Object.keys(AUTH_SCOPES) as AuthScope[];
const allBut = (scope: AuthScope) => ALL.filter((s) => s !== scope);

const serviceErrors = async (svc: RunningService) =>
  Number(/service_errors_total\{[^}]*\} (\d+)/.exec(await svc.context.metrics.render())?.[1]);

/** A request each catalog route accepts from a caller with its scope (ids need not exist). */
function sampleRequest(method: string, path: string): { url: string; body?: object } {
  const id = randomUUID();
  const samples: Record<string, { url: string; body?: object }> = {
    "POST /users": { url: "/users", body: { email: `s-${id}@example.com`, name: "Sample" } },
    "GET /users/{id}": { url: `/users/${id}` },
    "GET /users": { url: "/users?email=sample@example.com" },
    "GET /users/audit": { url: "/users/audit" },
    "POST /orders": {
      url: "/orders",
      body: { user_id: id, items: [{ sku: "S-1", quantity: 1, unit_price: 1 }] },
    },
    "GET /orders/{id}": { url: `/orders/${id}` },
    "GET /orders": { url: `/orders?user_id=${id}` },
    "GET /orders/audit": { url: "/orders/audit" },
    "GET /notifications": { url: `/notifications?user_id=${id}` },
    "GET /notifications/audit": { url: "/notifications/audit" },
  };
  const sample = samples[`${method} ${path}`];
  if (!sample) throw new Error(`no sample request for ${method} ${path}: add one to this table`);
  return sample;
}

/** Every business route of every catalog service, with the scope its OpenAPI document says it needs. */
const ROUTES = serviceEntries().flatMap((entry) =>
  entry.routes.map((route) => ({ service: entry.name, ...route })),
);

describe("Bearer authentication and authorization on the real services", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  const services = {} as Record<string, RunningService>;

  const send = (service: string, method: string, path: string, token?: string) => {
    const sample = sampleRequest(method, path);
    const client = request((services[service] as RunningService).server);
    const req = method === "POST" ? client.post(sample.url).send(sample.body) : client.get(sample.url);
    return token === undefined ? req : req.set("authorization", bearer(token));
  };

  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    const definitions = { user: userService, order: orderService, notification: notificationService };
    for (const [key, definition] of Object.entries(definitions)) {
      services[`${key}-service`] = await startService(definition as typeof userService, {
        env: serviceEnv(key as ServiceKey, db.name, ns.namespace),
      });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(services).map((svc) => svc.stop()));
    await ns?.drop();
    await db?.drop();
  }, 30_000);

  const foreignKey = newSigningKey();
  const refusals: Array<[string, string | undefined, RegExp]> = [
    ["no token", undefined, /^Bearer realm="[a-z-]+"$/],
    ["a malformed token", "not-a-jwt", /error="invalid_token"/],
    [
      // jose would decode it, but as another string it would be another remembered token.
      "a valid token with base64 padding appended",
      `${signToken(devSigningKey(), { sub: "u", scopes: ALL })}==`,
      /error="invalid_token"/,
    ],
    ["a token longer than 8 KiB", `${"a".repeat(4_100)}.${"b".repeat(4_100)}.c`, /error="invalid_token"/],
    [
      "an expired token",
      signToken(devSigningKey(), { sub: "u", scopes: ALL, expiresInSeconds: 60, shiftSeconds: -3600 }),
      /error="invalid_token"/,
    ],
    [
      "a token signed with a foreign key",
      signToken({ ...foreignKey, kid: devSigningKey().kid }, { sub: "u", scopes: ALL }),
      /error="invalid_token"/,
    ],
    [
      "a token from another issuer",
      signToken(devSigningKey(), { sub: "u", scopes: ALL, issuer: "https://issuer.example.com" }),
      /error="invalid_token"/,
    ],
    [
      "a token for another audience",
      signToken(devSigningKey(), { sub: "u", scopes: ALL, audience: "another-api" }),
      /error="invalid_token"/,
    ],
  ];

  describe.each(refusals)("When a request carries %s", (_what, token, challenge) => {
    it.each(ROUTES.map((r) => [r.service, r.method, r.path] as const))(
      "then %s %s %s answers 401 problem+json with the Bearer challenge and no detail of why",
      async (service, method, path) => {
        const res = await send(service, method, path, token);
        expect(res.status).toBe(401);
        expect(res.headers["content-type"]).toMatch(PROBLEM);
        expect(res.headers["www-authenticate"]).toMatch(challenge);
        expect(res.body.detail).not.toMatch(/expired|signature|issuer|audience|kid/i);
      },
    );
  });

  it.each(ROUTES.map((r) => [r.service, r.method, r.path] as const))(
    "When a token holds every scope but the one %s %s %s needs, then it answers 403 naming that scope",
    async (service, method, path) => {
      const doc = (await request((services[service] as RunningService).server).get("/openapi.json")).body;
      const needed = doc.paths[path][method.toLowerCase()].security[0].bearer[0] as AuthScope;
      expect(ALL).toContain(needed);
      const res = await send(service, method, path, tokenFor(randomUUID(), allBut(needed)));
      expect(res.status).toBe(403);
      expect(res.headers["content-type"]).toMatch(PROBLEM);
      expect(res.body.code).toBe("insufficient_scope");
      expect(res.headers["www-authenticate"]).toContain(`error="insufficient_scope", scope="${needed}"`);
    },
  );

  it("When refusals answer 401 and 403, then none counts as a service error", async () => {
    const users = services["user-service"] as RunningService;
    const before = await serviceErrors(users);
    expect((await request(users.server).get(`/users/${randomUUID()}`)).status).toBe(401);
    expect((await api(users.server, tokenFor(randomUUID())).get("/users/audit")).status).toBe(403);
    expect(await serviceErrors(users)).toBe(before);
  });

  describe("owners", () => {
    const userId = randomUUID();
    let other: string;
    let ownOrder: string;
    let othersOrder: string;

    beforeAll(async () => {
      const users = services["user-service"] as RunningService;
      const orders = services["order-service"] as RunningService;
      const created = await api(users.server, tokenFor("signup", ["users:write"]))
        .post("/users")
        .send({ email: `owner-${userId}@example.com`, name: "Owner" });
      expect(created.status).toBe(201);
      const ownId = created.body.id as string;
      const second = await api(users.server, tokenFor("signup", ["users:write"]))
        .post("/users")
        .send({ email: `other-${userId}@example.com`, name: "Other" });
      other = second.body.id as string;
      const place = (user: string) =>
        eventually("order accepted", async () => {
          const res = await api(orders.server, tokenFor(user))
            .post("/orders")
            .send({ user_id: user, items: [{ sku: "OWN-1", quantity: 1, unit_price: 2 }] });
          return res.status === 422 ? undefined : res;
        });
      const mine = await place(ownId);
      expect(mine.status).toBe(201);
      ownOrder = mine.body.id;
      othersOrder = (await place(other)).body.id;
      owner = ownId;
    }, 60_000);
    let owner: string;

    it("When a user with a scope-less token reads its own record, orders and notifications, then each answers 200", async () => {
      const own = tokenFor(owner);
      const user = await api((services["user-service"] as RunningService).server, own).get(`/users/${owner}`);
      expect(user.status).toBe(200);
      expect(user.body.id).toBe(owner);
      const orders = api((services["order-service"] as RunningService).server, own);
      expect((await orders.get(`/orders/${ownOrder}`)).body.user_id).toBe(owner);
      expect((await orders.get(`/orders?user_id=${owner}`)).body.items).toHaveLength(1);
      const notifications = await api((services["notification-service"] as RunningService).server, own).get(
        `/notifications?user_id=${owner}`,
      );
      expect(notifications.status).toBe(200);
    });

    it("When that user reads or orders for another user, then each answers 403 and reveals nothing of it", async () => {
      const own = tokenFor(owner);
      const users = api((services["user-service"] as RunningService).server, own);
      const orders = api((services["order-service"] as RunningService).server, own);
      const notifications = api((services["notification-service"] as RunningService).server, own);
      const refused = [
        await users.get(`/users/${other}`),
        await orders.get(`/orders/${othersOrder}`),
        // An order that does not exist answers as one of another user's does.
        await orders.get(`/orders/${randomUUID()}`),
        await orders.get(`/orders?user_id=${other}`),
        await orders
          .post("/orders")
          .send({ user_id: other, items: [{ sku: "X", quantity: 1, unit_price: 1 }] }),
        await notifications.get(`/notifications?user_id=${other}`),
        await users.get(`/users?email=other-${userId}@example.com`),
      ];
      expect(refused.map((res) => res.status)).toEqual(refused.map(() => 403));
      for (const res of refused) expect(JSON.stringify(res.body)).not.toContain(other);
    });

    it("When a token holds orders:read, then it reads any user's orders", async () => {
      const reader = api(
        (services["order-service"] as RunningService).server,
        tokenFor("support", ["orders:read"]),
      );
      expect((await reader.get(`/orders/${othersOrder}`)).status).toBe(200);
      expect((await reader.get(`/orders/${randomUUID()}`)).status).toBe(404);
    });
  });

  it("When /health, /ready, /metrics and /openapi.json are asked without a token, then they answer", async () => {
    const users = (services["user-service"] as RunningService).server;
    for (const path of ["/health", "/ready", "/metrics", "/openapi.json"]) {
      expect((await request(users).get(path)).status).toBe(200);
    }
  });

  it("When the OpenAPI document is read, then it declares the bearer scheme, each operation's scope and public probes", async () => {
    const doc = (await request((services["order-service"] as RunningService).server).get("/openapi.json"))
      .body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    expect(doc.paths["/orders"].post.security).toEqual([{ bearer: ["orders:write"] }]);
    expect(doc.paths["/orders"].post["x-owner"]).toEqual({ in: "body", name: "user_id" });
    expect(doc.paths["/orders/{id}"].get["x-owner"]).toEqual({ in: "response", name: "user_id" });
    expect(doc.paths["/orders/audit"].get.security).toEqual([{ bearer: ["audit:read"] }]);
    expect(Object.keys(doc.paths["/orders"].get.responses)).toEqual(expect.arrayContaining(["401", "403"]));
    for (const path of ["/health", "/ready", "/metrics"]) expect(doc.paths[path].get.security).toEqual([]);
  });
});

/** A JWKS endpoint whose keys the test changes, as an issuer rotating its signing key would. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  private readonly server = http.createServer((_req, res) => {
    this.fetches++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: this.keys.map(publicKey) }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function rsaKey(): JWK {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...(privateKey.export({ format: "jwk" }) as JWK), kid: `rsa-${randomUUID()}`, alg: "RS256" };
}

/** A token shaped as Cognito issues access tokens: no aud, token_use, client_id, prefixed scopes. */
async function cognitoStyleToken(key: JWK, issuer: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ token_use: "access", client_id: "app-client-1", ...claims })
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .setIssuer(issuer)
    .setSubject(String(claims.sub ?? randomUUID()))
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(await importJWK(key, "RS256"));
}

describe("Keys from the issuer's JWKS endpoint (user-service, real PostgreSQL)", () => {
  const jwks = new JwksServer();
  const first = rsaKey();
  let issuer: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  const AUDIENCE = "https://api.blueprint.example";

  beforeAll(async () => {
    jwks.keys = [first];
    issuer = await jwks.start();
    db = await createTestDatabase();
    svc = await startService(userService, {
      env: serviceEnv("user", db.name, "", {
        AUTH_ISSUER: issuer,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_JWKS: undefined,
        AUTH_JWKS_COOLDOWN_MS: "0",
        AUTH_CLIENT_IDS: "owner-app",
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await svc?.stop();
    await jwks.stop();
    await db?.drop();
  });

  const readAudit = (token: string) => api(svc.server, token).get("/users/audit");
  const standard = (key: JWK, scopes = ["audit:read"]) =>
    signToken(key, { sub: "ops", scopes, issuer, audience: AUDIENCE });

  it("When a token uses alg none, HS256 keyed with the issuer's public key, no exp, or a jku of its own, then it is refused with 401", async () => {
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
    const claims = {
      iss: issuer,
      aud: AUDIENCE,
      sub: "ops",
      scope: "audit:read",
      exp: Math.floor(Date.now() / 1000) + 300,
    };
    const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
    const publicPem = createPublicKey({ key: first as JsonWebKey, format: "jwk" }).export({
      type: "spki",
      format: "pem",
    });
    const hmacInput = `${encode({ alg: "HS256", kid: first.kid, typ: "JWT" })}.${encode(claims)}`;
    const confused = `${hmacInput}.${createHmac("sha256", publicPem).update(hmacInput).digest("base64url")}`;
    const noExp = await new SignJWT({ scope: "audit:read" })
      .setProtectedHeader({ alg: "RS256", kid: first.kid })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject("ops")
      .sign(await importJWK(first, "RS256"));
    const attacker = rsaKey();
    const ownKeys = await new SignJWT({ scope: "audit:read" })
      .setProtectedHeader({ alg: "RS256", kid: attacker.kid, jku: "https://attacker.example/jwks.json" })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject("ops")
      .setExpirationTime("5m")
      .sign(await importJWK(attacker, "RS256"));
    for (const token of [unsigned, confused, noExp, ownKeys]) {
      expect((await readAudit(token)).status).toBe(401);
    }
  });

  it("When the issuer rotates to a new key, then a token with the new kid is accepted after one refetch, and the old key's once it is gone is not", async () => {
    expect((await readAudit(standard(first))).status).toBe(200);
    const fetchesBefore = jwks.fetches;
    expect((await readAudit(standard(first))).status).toBe(200);
    expect(jwks.fetches).toBe(fetchesBefore);

    const second = rsaKey();
    jwks.keys = [second];
    expect((await readAudit(standard(second))).status).toBe(200);
    expect(jwks.fetches).toBe(fetchesBefore + 1);
    // The cached set was replaced by the rotated one: the retired key no longer verifies.
    expect((await readAudit(standard(first))).status).toBe(401);
  });

  it("When the issuer drops a key and the refetch is caused by a token it cannot verify, then tokens remembered under the dropped key are refused", async () => {
    const third = rsaKey();
    jwks.keys = [third];
    const remembered = standard(third);
    expect((await readAudit(remembered)).status).toBe(200);
    jwks.keys = [rsaKey()];
    // An unknown kid makes jose refetch; the lookup fails, yet the key set it saw is new.
    expect((await readAudit(standard(rsaKey()))).status).toBe(401);
    expect((await readAudit(remembered)).status).toBe(401);
  });

  it("When a Cognito-style access token carries the API's prefixed scope, then it is granted that scope", async () => {
    const key = jwks.keys[0] as JWK;
    const token = await cognitoStyleToken(key, issuer, { scope: `${AUDIENCE}/audit:read` });
    expect((await readAudit(token)).status).toBe(200);
  });

  it("When a Cognito-style token has no scope of this API and an unknown client, or is an ID token, then it is refused with 401", async () => {
    const key = jwks.keys[0] as JWK;
    const plain = await cognitoStyleToken(key, issuer, { scope: "audit:read" });
    expect((await readAudit(plain)).status).toBe(401);
    const otherApi = await cognitoStyleToken(key, issuer, { scope: "https://other.example/audit:read" });
    expect((await readAudit(otherApi)).status).toBe(401);
    const idToken = await cognitoStyleToken(key, issuer, {
      token_use: "id",
      scope: `${AUDIENCE}/audit:read`,
    });
    expect((await readAudit(idToken)).status).toBe(401);
  });

  it("When a scope-less Cognito-style token comes from a client in AUTH_CLIENT_IDS, then it has owner access only", async () => {
    const key = jwks.keys[0] as JWK;
    const sub = randomUUID();
    const token = await cognitoStyleToken(key, issuer, { sub, client_id: "owner-app" });
    // Past authorization as the owner: the user just does not exist.
    expect((await api(svc.server, token).get(`/users/${sub}`)).status).toBe(404);
    expect((await readAudit(token)).status).toBe(403);
    const unknownClient = await cognitoStyleToken(key, issuer, { sub, client_id: "someone-else" });
    expect((await api(svc.server, unknownClient).get(`/users/${sub}`)).status).toBe(401);
  });

  it("When a token expired or starts within the clock skew, then it is accepted; beyond it, refused", async () => {
    const key = jwks.keys[0] as JWK;
    const claims = { sub: "ops", scopes: ["audit:read"], issuer, audience: AUDIENCE };
    // Default skew: 30 s.
    const justExpired = signToken(key, { ...claims, expiresInSeconds: 60, shiftSeconds: -70 });
    const longExpired = signToken(key, { ...claims, expiresInSeconds: 60, shiftSeconds: -120 });
    const notYet = signToken(key, { ...claims, shiftSeconds: 20 });
    const later = signToken(key, { ...claims, shiftSeconds: 120 });
    expect((await readAudit(justExpired)).status).toBe(200);
    expect((await readAudit(longExpired)).status).toBe(401);
    expect((await readAudit(notYet)).status).toBe(200);
    expect((await readAudit(later)).status).toBe(401);
  });

  it("When the JWKS endpoint is down, then requests answer 503 (retry), not 401", async () => {
    const key = rsaKey();
    await jwks.stop();
    const res = await readAudit(standard(key));
    expect(res.status).toBe(503);
  });
});

describe("Auth settings", () => {
  const valid = localAuthEnv();

  it.each([
    ["AUTH_ISSUER missing", { AUTH_ISSUER: undefined }, /AUTH_ISSUER: .*\(got missing\)/],
    ["AUTH_AUDIENCE missing", { AUTH_AUDIENCE: undefined }, /AUTH_AUDIENCE: .*\(got missing\)/],
    [
      "an issuer over plain HTTP to another host",
      { AUTH_ISSUER: "http://issuer.example.com" },
      /AUTH_ISSUER: must be an https URL \(http only to localhost\)/,
    ],
    ["a JWKS that is not JSON", { AUTH_JWKS: "{keys" }, /AUTH_JWKS: must be JSON/],
    [
      "a JWKS holding a private key",
      { AUTH_JWKS: JSON.stringify({ keys: [newSigningKey()] }) },
      /AUTH_JWKS.*holds a private key member/,
    ],
    [
      "both inline keys and a JWKS URL",
      { AUTH_JWKS_URL: "https://issuer.example.com/jwks.json" },
      /AUTH_JWKS: set either AUTH_JWKS \(inline keys\) or AUTH_JWKS_URL, not both/,
    ],
    ["a clock skew of ten minutes", { AUTH_CLOCK_SKEW_SECONDS: "600" }, /AUTH_CLOCK_SKEW_SECONDS: .*300/],
  ])("When %s, then loading fails naming the variable", (_what, change, message) => {
    const load = () => loadConfig(authConfigSchema, { ...valid, ...change });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  it("When only issuer and audience are set, then the JWKS URL is the issuer's well-known one", () => {
    const config = loadConfig(authConfigSchema, { AUTH_ISSUER: LOCAL_ISSUER, AUTH_AUDIENCE: LOCAL_AUDIENCE });
    expect(config.AUTH_JWKS_URL).toBeUndefined();
    expect(config.AUTH_CLOCK_SKEW_SECONDS).toBe(30);
  });
});
