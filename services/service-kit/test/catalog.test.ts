import { describe, expect, it } from "@jest/globals";
import {
  CATALOG,
  type Catalog,
  serviceEntry,
  topicEntries,
  validateCatalog,
  writableTopics,
} from "../src/catalog";

const withService = (name: string, spec: Partial<Catalog["services"][string]>): Catalog => ({
  ...CATALOG,
  services: { ...CATALOG.services, [name]: { ...CATALOG.services["user-service"], ...spec } },
});

describe("service catalog", () => {
  it("When the platform catalog is validated, then it has no problem", () => {
    expect(() => validateCatalog(CATALOG)).not.toThrow();
  });

  it("When a service is looked up by a name the catalog lacks, then the error names it and the known ones", () => {
    expect(() => serviceEntry("billing-service", CATALOG)).toThrow(
      /service "billing-service" is not in the catalog \(known: user-service, order-service, notification-service\)/,
    );
  });

  it("When a service consumes a topic, then the brokers get its dead-letter topic with one partition", () => {
    expect(topicEntries()).toEqual(
      expect.arrayContaining([
        { name: "user.created", partitions: 6 },
        { name: "user.created.dlt", partitions: 1 },
        { name: "order.processed.dlt", partitions: 1 },
      ]),
    );
    expect(writableTopics(serviceEntry("order-service"))).toEqual(["order.processed", "user.created.dlt"]);
  });

  it("When an entry lists a route twice, then the problem names it", () => {
    const twice = withService("user-service", {
      routes: [...CATALOG.services["user-service"].routes, { method: "GET", path: "/users" }],
    });
    expect(() => validateCatalog(twice)).toThrow("- user-service: route GET /users is listed more than once");
  });

  it("When a new entry repeats a port, leaves its prefix, names an unknown topic and metric and lacks a database, then every problem is listed", () => {
    const broken = withService("billing-service", {
      port: 8081,
      pathPrefix: "/billing",
      routes: [{ method: "GET", path: "/invoices" }],
      produces: ["invoice.issued"],
      metrics: ["invoices_total"],
      secrets: [],
    });
    expect(() => validateCatalog(broken)).toThrow(
      [
        "invalid service catalog:",
        "- billing-service and user-service share port 8081",
        "- billing-service and user-service share database role user_service",
        "- billing-service and user-service share database schema users",
        "- billing-service: route GET /invoices is outside its prefix /billing",
        '- billing-service: topic "invoice.issued" is not in the catalog\'s topics',
        '- billing-service: metric "invoices_total" is not a kit service metric',
        '- billing-service: every service needs the "database" secret',
      ].join("\n"),
    );
  });
});
