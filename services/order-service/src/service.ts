import path from "node:path";
import {
  type Component,
  defineHandler,
  EventConsumer,
  OutboxRelay,
  SERVICES,
  type ServiceContext,
  type ServiceDefinition,
  serviceConfigSchema,
} from "@blueprint/service-kit";
import { orderRoutes } from "./api/routes";
import { OrderRepository } from "./data-access/order-repository";
import { Orders } from "./domain/orders";

const entry = SERVICES[1];
export const configSchema = serviceConfigSchema(entry);
export type OrderServiceContext = ServiceContext<ReturnType<typeof configSchema.parse>>;

/** The user.created consumer of order-service, on its own so tests can run it alone. */
export function userProjectionConsumer(context: OrderServiceContext, orders: Orders): EventConsumer {
  const { config, db, messaging, admin, metrics, logger } = context;
  return new EventConsumer(
    {
      group: entry.name,
      namespace: config.KAFKA_NAMESPACE,
      db,
      messaging,
      admin,
      metrics,
      logger,
      maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
      backoffBaseMs: config.CONSUMER_BACKOFF_BASE_MS,
      backoffMaxMs: config.CONSUMER_BACKOFF_MAX_MS,
      concurrency: config.CONSUMER_CONCURRENCY,
    },
    [
      defineHandler({
        topic: "user.created",
        eventType: "user.created",
        handle: (event, tx) => orders.learnUser(event, tx),
      }),
    ],
  );
}

/** order-service: a users projection from user.created, orders, `order.processed` through the outbox. */
export const orderService: ServiceDefinition<typeof configSchema> = {
  entry,
  configSchema,
  migrationsDir: path.resolve(__dirname, "../migrations"),
  create(context) {
    const { config, db, messaging, metrics, logger } = context;
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
    const orders = new Orders(new OrderRepository(db), () => relay.written());
    const consumer = userProjectionConsumer(context, orders);
    const components: Component[] = [
      {
        name: "outbox-relay",
        start: () => relay.start(),
        stop: (budgetMs) => relay.stop(Math.max(0, budgetMs - 500)),
      },
      { name: "user.created consumer", start: () => consumer.start(), stop: () => consumer.stop() },
    ];
    return {
      routes: orderRoutes(orders),
      openapi: {
        title: "order-service",
        version: "1.0.0",
        description: "Takes orders for users it learned of from user.created; publishes order.processed.",
      },
      components,
    };
  },
};
