import { startProcessTracing } from "@blueprint/service-kit/tracing";

// Before the service's modules load, so that the instrumentations patch express and pg as they are required.
void startProcessTracing("notification-service")
  .then(() => Promise.all([import("@blueprint/service-kit"), import("./service.js")]))
  .then(([kit, { notificationService }]) => kit.runServiceProcess(notificationService));
