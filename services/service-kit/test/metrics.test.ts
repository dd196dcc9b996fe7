import { describe, expect, it } from "@jest/globals";
import {
  KIT_METRICS,
  RUNTIME_METRICS,
  SERVICE_METRICS,
  ServiceMetrics,
  serviceEntries,
  serviceEntry,
} from "../src";

async function exposedNames(metrics: ServiceMetrics): Promise<Set<string>> {
  return new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
}

describe("service metrics", () => {
  it.each(serviceEntries().map((e) => [e.name, e] as const))(
    "When %s's metrics are created from its catalog entry, then it exposes the kit's, the runtime ones and exactly the service metrics it declares",
    async (_name, entry) => {
      const names = await exposedNames(new ServiceMetrics(entry.name, entry.metrics));
      for (const name of [...Object.values(KIT_METRICS), ...Object.values(RUNTIME_METRICS), ...entry.metrics])
        expect(names).toContain(name);
      for (const name of Object.values(SERVICE_METRICS).filter((n) => !entry.metrics.includes(n)))
        expect(names).not.toContain(name);
    },
  );

  it("When a service asks for a service metric its catalog entry does not declare, then it fails naming the service and the metric", () => {
    const metrics = new ServiceMetrics("user-service", serviceEntry("user-service").metrics);
    expect(() => metrics.serviceMetric(SERVICE_METRICS.notifications)).toThrow(
      'user-service: metric "notifications_total" is not in its catalog entry\'s metrics',
    );
  });

  it("When a catalog entry declares a metric the kit does not know, then creating the metrics fails naming it", () => {
    expect(() => new ServiceMetrics("billing-service", ["invoices_total"])).toThrow(
      /billing-service: catalog metric "invoices_total" is not one the kit knows/,
    );
  });
});
