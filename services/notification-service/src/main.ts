import { startProcessTracing } from "@blueprint/service-kit/tracing";

// Before the service's modules load, so that the instrumentations patch express and pg as they are required.
startProcessTracing("notification-service");
void Promise.all([import("@blueprint/service-kit"), import("./service.js")]).then(
  ([kit, { notificationService }]) => kit.runServiceProcess(notificationService),
);
