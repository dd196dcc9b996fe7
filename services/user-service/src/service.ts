import path from "node:path";
import {
  type Component,
  OutboxRelay,
  SERVICES,
  type ServiceDefinition,
  serviceConfigSchema,
} from "@blueprint/service-kit";
import { userRoutes } from "./api/routes";
import { UserRepository } from "./data-access/user-repository";
import { Users } from "./domain/users";

const entry = SERVICES[0];
export const configSchema = serviceConfigSchema(entry);

/** user-service: users in its own schema, `user.created` published through the outbox. */
export const userService: ServiceDefinition<typeof configSchema> = {
  entry,
  configSchema,
  migrationsDir: path.resolve(__dirname, "../migrations"),
  create({ config, db, messaging, metrics, logger }) {
    const relay = new OutboxRelay({
      db,
      producer: messaging.producer(),
      metrics,
      logger: logger.child({ component: "outbox-relay" }),
      namespace: config.KAFKA_NAMESPACE,
      batchSize: config.OUTBOX_BATCH_SIZE,
      pollIntervalMs: config.OUTBOX_POLL_MS,
      lingerMs: config.OUTBOX_LINGER_MS,
      notifyChannel: config.OUTBOX_NOTIFY ? `outbox_${entry.schema}` : undefined,
      retentionMinutes: config.OUTBOX_RETENTION_MINUTES,
    });
    const users = new Users(new UserRepository(db), () => relay.written());
    const relayComponent: Component = {
      name: "outbox-relay",
      start: () => relay.start(),
      stop: (budgetMs) => relay.stop(Math.max(0, budgetMs - 500)),
    };
    return {
      routes: userRoutes(users),
      openapi: {
        title: "user-service",
        version: "1.0.0",
        description: "Creates and reads users; publishes user.created.",
      },
      components: [relayComponent],
    };
  },
};
