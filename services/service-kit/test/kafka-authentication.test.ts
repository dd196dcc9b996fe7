import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { baseConfigSchema, ConfigError, kafkaAuthentication, loadConfig } from "../src/config";
import { connectionSettings } from "../src/messaging";

const env = { SERVICE_NAME: "user-service", PORT: "0", PGUSER: "u", PGPASSWORD: "p" };

describe("Kafka authentication", () => {
  // Static placeholder credentials: signing is local, no AWS call is made.
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "placeholder-id",
      AWS_SECRET_ACCESS_KEY: "placeholder-key",
    });
  });
  afterAll(() => {
    process.env = saved;
  });

  it("When nothing is configured, then clients connect in plaintext without SASL, as locally", () => {
    const auth = kafkaAuthentication(loadConfig(baseConfigSchema, env));
    expect(auth).toEqual({ kind: "none" });
    expect(connectionSettings(auth)).toEqual({});
  });

  it("When KAFKA_AUTH is aws-msk-iam, then clients use TLS and SASL OAUTHBEARER with a token signed for the region", async () => {
    const auth = kafkaAuthentication(
      loadConfig(baseConfigSchema, { ...env, KAFKA_AUTH: "aws-msk-iam", AWS_REGION: "eu-west-1" }),
    );
    const settings = connectionSettings(auth) as {
      ssl: boolean;
      sasl: { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
    };
    expect(settings.ssl).toBe(true);
    expect(settings.sasl.mechanism).toBe("oauthbearer");
    const { value } = await settings.sasl.oauthBearerProvider();
    const url = new URL(Buffer.from(value, "base64url").toString("utf8"));
    expect(url.host).toBe("kafka.eu-west-1.amazonaws.com");
    expect(url.searchParams.get("Action")).toBe("kafka-cluster:Connect");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(
      /^placeholder-id\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
  });

  it("When aws-msk-iam is asked for without a region, then start-up stops naming AWS_REGION", () => {
    const config = loadConfig(baseConfigSchema, { ...env, KAFKA_AUTH: "aws-msk-iam" });
    expect(() => kafkaAuthentication(config)).toThrow(ConfigError);
    expect(() => kafkaAuthentication(config)).toThrow(
      "AWS_REGION: required when KAFKA_AUTH is aws-msk-iam (got missing)",
    );
  });

  it("When KAFKA_AUTH has an unknown value, then start-up stops naming the variable", () => {
    expect(() => loadConfig(baseConfigSchema, { ...env, KAFKA_AUTH: "scram" })).toThrow(/KAFKA_AUTH/);
  });
});
