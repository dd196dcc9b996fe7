import path from "node:path";
import {
  defineHandler,
  type EventConsumer,
  eventConsumer,
  IdempotencyStore,
  outboxRelay,
  type ServiceContext,
  type ServiceDefinition,
  serviceConfigSchema,
  serviceEntry,
} from "@blueprint/service-kit";
import { orderRoutes } from "./api/routes";
import { OrderRepository } from "./data-access/order-repository";
import { Orders } from "./domain/orders";

const entry = serviceEntry("order-service");
export const configSchema = serviceConfigSchema(entry);
type OrderServiceContext = ServiceContext<ReturnType<typeof configSchema.parse>>;

/** The user.created consumer of order-service: it keeps the users projection orders are checked against. */
function userProjectionConsumer(context: OrderServiceContext, orders: Orders): EventConsumer {
  return eventConsumer(context, entry.name, [
    defineHandler({
      topic: "user.created",
      eventType: "user.created",
      handle: (event, tx) => orders.learnUser(event, tx),
    }),
  ]);
}

/** order-service: a users projection from user.created, orders, `order.processed` through the outbox. */
export const orderService: ServiceDefinition<typeof configSchema> = {
  entry,
  description: "Takes orders for users it learned of from user.created; publishes order.processed.",
  configSchema,
  migrationsDir: path.resolve(__dirname, "../migrations"),
  create(context) {
    const { relay, component } = outboxRelay(context, entry);
    const orders = new Orders(new OrderRepository(context.db), () => relay.written());
    const idempotency = new IdempotencyStore(context.db, context.logger);
    return {
      routes: orderRoutes(orders, idempotency),
      components: [component, idempotency.component(), userProjectionConsumer(context, orders)],
    };
  },
};
