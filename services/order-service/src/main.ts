import { startProcessTracing } from "@blueprint/service-kit/tracing";

// Before the service's modules load, so that the instrumentations patch express and pg as they are required.
void startProcessTracing("order-service")
  .then(() => Promise.all([import("@blueprint/service-kit"), import("./service.js")]))
  .then(([kit, { orderService }]) => kit.runServiceProcess(orderService));
