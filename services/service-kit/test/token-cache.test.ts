import { describe, expect, it } from "@jest/globals";
import { authConfigSchema, InvalidTokenError, loadConfig, TokenVerifier } from "../src";
import { localAuthEnv, newSigningKey, publicKey, signToken } from "../src/dev-tokens";
import { VerifiedTokenCache } from "../src/token-cache";

const key = newSigningKey();
const config = loadConfig(authConfigSchema, {
  ...localAuthEnv(),
  AUTH_JWKS: JSON.stringify({ keys: [publicKey(key)] }),
  AUTH_CLOCK_SKEW_SECONDS: "30",
});

describe("Verified tokens are remembered, never past their validity", () => {
  it("When a token was verified and its exp passes (plus the skew), then the next request with it is refused", async () => {
    let now = Date.now();
    const verifier = new TokenVerifier(config, () => now);
    const token = signToken(key, { sub: "u-1", scopes: ["users:write"], expiresInSeconds: 60 });
    expect((await verifier.verify(token)).sub).toBe("u-1");
    now += 60_000 + 29_000;
    expect((await verifier.verify(token)).sub).toBe("u-1");
    now += 2_000;
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it("When a token is refused, then sending it again is refused again (failures are not remembered as successes)", async () => {
    const verifier = new TokenVerifier(config);
    const forged = signToken(newSigningKey(), { sub: "u-2", scopes: ["users:write"] });
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it("When a token differs from a verified one by its signature, then it is checked, not served from memory", async () => {
    const verifier = new TokenVerifier(config);
    const token = signToken(key, { sub: "u-3", scopes: ["users:write"] });
    await verifier.verify(token);
    const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    await expect(verifier.verify(tampered)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

describe("VerifiedTokenCache", () => {
  it("keeps an entry no longer than its max age, even when the token is valid for longer", () => {
    const cache = new VerifiedTokenCache<string>(10, 1_000);
    cache.set("t", "caller", 0, 3_600_000);
    expect(cache.get("t", 999)).toBe("caller");
    expect(cache.get("t", 1_000)).toBeUndefined();
  });

  it("holds at most its bound, the oldest entry leaving first", () => {
    const cache = new VerifiedTokenCache<string>(2, 1_000);
    cache.set("a", "A", 0, 1_000);
    cache.set("b", "B", 0, 1_000);
    cache.set("c", "C", 0, 1_000);
    expect(cache.size).toBe(2);
    expect([cache.get("a", 1), cache.get("b", 1), cache.get("c", 1)]).toEqual([undefined, "B", "C"]);
  });

  it("replaces the entry of a token set again without evicting another", () => {
    const cache = new VerifiedTokenCache<string>(2, 1_000);
    cache.set("a", "A", 0, 1_000);
    cache.set("b", "B", 0, 1_000);
    cache.set("a", "A2", 1, 1_000);
    expect([cache.get("a", 2), cache.get("b", 2)]).toEqual(["A2", "B"]);
    cache.set("c", "C", 2, 1_000);
    expect([cache.get("a", 3), cache.get("b", 3), cache.get("c", 3)]).toEqual(["A2", undefined, "C"]);
  });

  it("does not keep what is already invalid", () => {
    const cache = new VerifiedTokenCache<string>(2, 1_000);
    cache.set("old", "X", 5_000, 4_000);
    expect(cache.size).toBe(0);
  });
});
