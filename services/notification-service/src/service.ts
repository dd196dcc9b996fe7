import path from "node:path";
import {
  baseConfigSchema,
  type Component,
  defineHandler,
  eventConsumer,
  SERVICE_METRICS,
  type ServiceContext,
  type ServiceDefinition,
  serviceConfigSchema,
  serviceEntry,
} from "@blueprint/service-kit";
import { z } from "zod";
import { notificationRoutes } from "./api/routes";
import { NotificationRepository } from "./data-access/notification-repository";
import { senderDomain, smtpMailer } from "./data-access/smtp-mailer";
import { DeliveryWorker } from "./domain/delivery";
import { confirmationFor, Notifications, welcomeFor } from "./domain/notifications";

const entry = serviceEntry("notification-service");

export const configSchema = serviceConfigSchema(entry).extend({
  SMTP_HOST: z.string().min(1).default("127.0.0.1"),
  SMTP_PORT: baseConfigSchema.shape.PGPORT.default(1025),
  SMTP_SECURE: z.stringbool().default(false),
  SMTP_USER: z.string().min(1).optional(),
  /** Secret: no default; needed only with SMTP_USER. */
  SMTP_PASSWORD: z.string().min(1).optional(),
  MAIL_FROM: z
    .string()
    .refine(
      (from) => senderDomain(from) !== undefined,
      "an address with a domain, such as Shop <no-reply@example.com>",
    )
    .default("Blueprint <no-reply@blueprint.local>"),
  /** Transient SMTP failures (4xx, connection errors) are retried until a notification is this old. */
  DELIVERY_GIVE_UP_AFTER_SECONDS: z.coerce.number().int().min(1).default(86_400),
  DELIVERY_BACKOFF_BASE_MS: z.coerce.number().int().min(0).default(1_000),
  DELIVERY_BACKOFF_MAX_MS: z.coerce.number().int().min(0).default(60_000),
  /**
   * How long the claims of a worker that died wait before another sends them; live workers renew
   * theirs every third of it and start a send only while at least a third of it remains.
   */
  DELIVERY_LEASE_SECONDS: z.coerce.number().int().min(15).default(15),
  DELIVERY_POLL_MS: z.coerce.number().int().min(10).default(500),
  DELIVERY_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(50),
});
type NotificationServiceContext = ServiceContext<z.output<typeof configSchema>>;

/** Parts of notification-service: the use cases, the SMTP delivery worker and the event consumer. */
function notificationParts(context: NotificationServiceContext) {
  const { config, db, metrics, logger } = context;
  const repository = new NotificationRepository(db);
  const notifications = new Notifications(repository);
  const worker = new DeliveryWorker({
    repository,
    mailer: smtpMailer({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      user: config.SMTP_USER,
      password: config.SMTP_PASSWORD,
      from: config.MAIL_FROM,
    }),
    metrics,
    logger: logger.child({ component: "delivery" }),
    batchSize: config.DELIVERY_BATCH_SIZE,
    pollIntervalMs: config.DELIVERY_POLL_MS,
    backoffBaseMs: config.DELIVERY_BACKOFF_BASE_MS,
    backoffMaxMs: config.DELIVERY_BACKOFF_MAX_MS,
    giveUpAfterSeconds: config.DELIVERY_GIVE_UP_AFTER_SECONDS,
    leaseSeconds: config.DELIVERY_LEASE_SECONDS,
  });
  const endToEnd = metrics.serviceMetric(SERVICE_METRICS.endToEndLatency);
  const recorded = (occurredAt: string, eventType: string) => {
    endToEnd.observe({ event_type: eventType }, (Date.now() - Date.parse(occurredAt)) / 1000);
    worker.wake();
  };
  const consumer = eventConsumer(context, entry.name, [
    defineHandler({
      topic: "user.created",
      eventType: "user.created",
      handle: (event, tx) => notifications.record(welcomeFor(event), tx),
      afterCommit: (event) => recorded(event.occurred_at, event.event_type),
    }),
    defineHandler({
      topic: "order.processed",
      eventType: "order.processed",
      handle: (event, tx) => notifications.record(confirmationFor(event), tx),
      afterCommit: (event) => recorded(event.occurred_at, event.event_type),
    }),
  ]);
  return { notifications, worker, consumer };
}

/** notification-service: welcome and order emails from events, recorded once per event. */
export const notificationService: ServiceDefinition<typeof configSchema> = {
  entry,
  description: "Emails for user.created and order.processed, recorded once per event with status.",
  configSchema,
  migrationsDir: path.resolve(__dirname, "../migrations"),
  create(context) {
    const { notifications, worker, consumer } = notificationParts(context);
    const delivery: Component = {
      name: "delivery",
      start: async () => worker.start(),
      stop: () => worker.stop(),
    };
    return { routes: notificationRoutes(notifications), components: [delivery, consumer] };
  },
};
