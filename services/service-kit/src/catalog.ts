/**
 * The platform's service and topic catalog: the one place that names each service's port,
 * database role and schema, and every Kafka topic with its partition count.
 * Local tooling, tests and (later) dashboards read it instead of repeating the names.
 */

export interface ServiceEntry {
  /** Service name, also its Kafka client id and consumer group prefix. */
  readonly name: string;
  /** HTTP port the service listens on locally and in containers. */
  readonly port: number;
  /** PostgreSQL role the service logs in as; it owns only `schema`. */
  readonly dbRole: string;
  /** PostgreSQL schema owned by the service. */
  readonly schema: string;
}

export interface TopicEntry {
  readonly name: string;
  readonly partitions: number;
}

/** Dead-letter topic of `topic`: where consumers park events they cannot process, with the error. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlt`;
}

export const SERVICES = [
  { name: "user-service", port: 8081, dbRole: "user_service", schema: "users" },
  { name: "order-service", port: 8082, dbRole: "order_service", schema: "orders" },
  { name: "notification-service", port: 8083, dbRole: "notification_service", schema: "notifications" },
] as const satisfies readonly ServiceEntry[];

export type ServiceName = (typeof SERVICES)[number]["name"];

/** Database shared by all services; isolation is by schema and role. */
export const DATABASE_NAME = "blueprint";

/**
 * Topics are created explicitly (brokers run with auto.create.topics.enable=false):
 * locally by `npm run deps:up`, in compose by the kafka-init container.
 */
export const TOPICS = [
  { name: "user.created", partitions: 6 },
  { name: "order.processed", partitions: 6 },
  // One partition each: dead letters are rare, inspected by people and replayed in order.
  { name: "user.created.dlt", partitions: 1 },
  { name: "order.processed.dlt", partitions: 1 },
] as const satisfies readonly TopicEntry[];

export type TopicName = (typeof TOPICS)[number]["name"];

/**
 * Which topics each service writes through its outbox and which it consumes, with the consumer
 * group named after the service. Least-privilege MSK policies and the dashboards read this.
 */
export const EVENT_FLOW = {
  "user-service": { produces: ["user.created"], consumes: [] },
  "order-service": { produces: ["order.processed"], consumes: ["user.created"] },
  "notification-service": { produces: [], consumes: ["user.created", "order.processed"] },
} as const satisfies Record<
  ServiceName,
  { readonly produces: readonly TopicName[]; readonly consumes: readonly TopicName[] }
>;
