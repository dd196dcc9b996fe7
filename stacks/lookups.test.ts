import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { dev } from "../environments/dev";
import { buildStacks } from "./app";
import type { ComputeStack } from "./compute-stack";

const app = buildStacks(Testing.app(), [dev]);
const compute = app.node.findChild("dev-compute") as ComputeStack;

describe("per-service lookups", () => {
  it("When every catalog service is looked up, then each layer has its objects", () => {
    for (const s of compute.wiring.services()) {
      expect(compute.layers.edge.alb.targetGroup(s.name)).toBeDefined();
      expect(compute.registry.repository(s.name)).toBeDefined();
      expect(compute.serviceRole(s.name)).toBeDefined();
      expect(compute.ecs?.service(s.name)).toBeDefined();
      for (const kind of s.secrets) expect(compute.secret(`${s.name}/${kind}`)).toBeDefined();
    }
  });

  it("When a service a layer does not hold is looked up, then it throws naming the owner, the service and the known ones", () => {
    const known = "user-service, order-service, notification-service";
    expect(() => compute.layers.edge.alb.targetGroup("audit-service")).toThrow(
      `Alb blueprint-dev: no target group for service "audit-service" (known: ${known})`,
    );
    expect(() => compute.registry.repository("audit-service")).toThrow(
      `Registry blueprint: no repository for service "audit-service" (known: ${known})`,
    );
    expect(() => compute.serviceRole("audit-service")).toThrow(
      `ComputeStack dev-compute: no role for service "audit-service" (known: ${known})`,
    );
    expect(() => compute.ecs?.service("audit-service")).toThrow(
      `EcsServices blueprint-dev: no service "audit-service" (known: ${known})`,
    );
    expect(() => compute.secret("audit-service/database")).toThrow(
      'ServiceSecrets blueprint/dev: no secret "audit-service/database" (known: user-service/database, order-service/database, notification-service/database, notification-service/smtp)',
    );
  });
});
