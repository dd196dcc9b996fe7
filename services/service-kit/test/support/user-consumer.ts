import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import pino from "pino";
import { serviceEnv } from "../../../system-tests/support/environment";
import {
  createPool,
  Database,
  defineHandler,
  EventConsumer,
  type EventHandler,
  type EventTypes,
  loadConfig,
  Messaging,
  newEvent,
  ServiceMetrics,
  serviceEntry,
} from "../../src";
import { serviceConfigSchema } from "../../src/service";

/** A valid user.created event. */
export function userCreated(name: string, userId: string = randomUUID()): EventTypes["user.created"] {
  return newEvent("user.created", {
    user_id: userId,
    email: `${userId}@example.com`,
    name,
    created_at: new Date().toISOString(),
  });
}

export interface UserConsumerOptions {
  readonly database: string;
  readonly namespace: string;
  readonly brokers: string;
  readonly handler: Pick<EventHandler<"user.created">, "handle" | "afterCommit">;
  /** @default 3 */
  readonly maxAttempts?: number;
  /** @default silent */
  readonly logger?: Logger;
}

/**
 * An EventConsumer of user.created in order-service's group, role and schema, as the service runs
 * it (three partitions in parallel, short backoffs), with the handler under test. Call `stop`.
 */
export function userConsumer(options: UserConsumerOptions): {
  consumer: EventConsumer;
  metrics: ServiceMetrics;
  stop(): Promise<void>;
} {
  const config = loadConfig(
    serviceConfigSchema(serviceEntry("order-service")),
    serviceEnv("order", options.database, options.namespace),
  );
  const metrics = new ServiceMetrics("order-service");
  const db = new Database(createPool(config), metrics);
  const messaging = new Messaging({
    brokers: options.brokers.split(","),
    clientId: "consumer-test",
    logger: pino({ level: "silent" }),
  });
  const consumer = new EventConsumer(
    {
      group: "order-service",
      namespace: options.namespace,
      db,
      messaging,
      admin: messaging.admin(),
      metrics,
      logger: options.logger ?? pino({ level: "silent" }),
      maxAttempts: options.maxAttempts ?? 3,
      backoffBaseMs: 50,
      backoffMaxMs: 400,
      concurrency: 3,
    },
    [defineHandler({ topic: "user.created", eventType: "user.created", ...options.handler })],
  );
  return {
    consumer,
    metrics,
    async stop() {
      await consumer.stop();
      await db.end();
    },
  };
}
