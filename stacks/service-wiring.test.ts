import { CATALOG } from "@blueprint/service-kit/catalog";
import { DRAIN } from "@blueprint/service-kit/config";
import { describe, expect, it } from "vitest";
import type { EnvironmentConfig } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { ServiceWiring } from "./service-wiring";

const endpoints = {
  databaseHost: "db.internal",
  kafkaBrokers: "b-1.msk:9098",
  traceCollectorUrl: "http://otel-collector.example.internal:4318",
};
const auth = {
  issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
  audience: "https://api.dev.example.com",
  jwksUrl: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example/.well-known/jwks.json",
};

function environmentOn(env: EnvironmentConfig): Record<string, string> {
  const wiring = new ServiceWiring(CATALOG, env, auth);
  const [entry] = wiring.services();
  if (!entry) throw new Error("the catalog has no service");
  return wiring.environment(entry, endpoints);
}

describe("ServiceWiring token settings", () => {
  it.each([dev, prod])(
    "When a service runs in $name, then it gets the issuer, audience and keys of its identity provider",
    (env) => {
      expect(environmentOn(env)).toMatchObject({
        AUTH_ISSUER: auth.issuer,
        AUTH_AUDIENCE: auth.audience,
        AUTH_JWKS_URL: auth.jwksUrl,
      });
    },
  );
});

describe("ServiceWiring drain settings", () => {
  it("When a service runs on ECS, then it keeps serving for the drain delay itself before closing its listener", () => {
    expect(dev.compute.kind).toBe("ecs");
    expect(environmentOn(dev)).toMatchObject({
      SHUTDOWN_DELAY_MS: String(DRAIN.delaySeconds * 1000),
      SHUTDOWN_TIMEOUT_MS: String(DRAIN.timeoutSeconds * 1000),
    });
  });

  it("When a service runs on EKS, then the preStop sleep is the delay and the service drains at once on SIGTERM", () => {
    expect(prod.compute.kind).toBe("eks");
    expect(environmentOn(prod)).toMatchObject({
      SHUTDOWN_DELAY_MS: "0",
      SHUTDOWN_TIMEOUT_MS: String(DRAIN.timeoutSeconds * 1000),
    });
  });

  it("When the platform's kill deadline is read, then it covers the delay and the drain", () => {
    expect(DRAIN.gracePeriodSeconds).toBeGreaterThan(DRAIN.delaySeconds + DRAIN.timeoutSeconds);
  });
});
