import { describe, expect, it } from "@jest/globals";
import { backoffDelay, ConfigError, loadConfig } from "../src";
import { serviceEntry } from "../src/catalog";
import { serviceConfigSchema } from "../src/service";

describe("service configuration", () => {
  const schema = serviceConfigSchema(serviceEntry("user-service"));

  it("When the password is missing and a port is not a number, then start-up stops naming both variables", () => {
    let error: unknown;
    try {
      loadConfig(schema, { PGPORT: "54x", KAFKA_BROKERS: "nohostport" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PGPASSWORD: .* \(got missing\)/);
    expect(message).toMatch(/PGPORT: .* \(got "54x"\)/);
    expect(message).toMatch(/KAFKA_BROKERS.*host:port/);
  });

  it("When a secret is set but another value is invalid, then the message hides the secret", () => {
    expect(() => loadConfig(schema, { PGPASSWORD: "", BODY_LIMIT: "lots" })).toThrow(
      /PGPASSWORD: .*\(set, hidden\)/,
    );
  });

  it("When only the secret is given, then the catalog supplies name, port and role", () => {
    expect(loadConfig(schema, { PGPASSWORD: "x" })).toMatchObject({
      SERVICE_NAME: "user-service",
      PORT: 8081,
      PGUSER: "user_service",
      KAFKA_BROKERS: ["127.0.0.1:9092"],
      MIGRATE_ON_START: true,
    });
  });
});

describe("retry backoff", () => {
  it("When attempts repeat, then delays grow exponentially within [half, all] of the capped ceiling", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, 10_000, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, 10_000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(20, 100, 1_000, () => 1)).toBe(1_000);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 100, 10_000)));
    expect(spread.size).toBeGreaterThan(10);
  });
});
