import path from "node:path";
import {
  IdempotencyStore,
  outboxRelay,
  type ServiceDefinition,
  serviceConfigSchema,
  serviceEntry,
} from "@blueprint/service-kit";
import { userRoutes } from "./api/routes";
import { UserRepository } from "./data-access/user-repository";
import { Users } from "./domain/users";

const entry = serviceEntry("user-service");
export const configSchema = serviceConfigSchema(entry);

/** user-service: users in its own schema, `user.created` published through the outbox. */
export const userService: ServiceDefinition<typeof configSchema> = {
  entry,
  description: "Creates and reads users; publishes user.created.",
  configSchema,
  migrationsDir: path.resolve(__dirname, "../migrations"),
  create(context) {
    const { relay, component } = outboxRelay(context, entry);
    const users = new Users(new UserRepository(context.db), () => relay.written());
    const idempotency = new IdempotencyStore(context.db, context.logger);
    return {
      routes: userRoutes(users, idempotency),
      components: [component, idempotency.component()],
    };
  },
};
