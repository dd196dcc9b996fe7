import { deadLetterTopic, type ServiceName } from "@blueprint/service-kit/catalog";

export interface ServiceAccess {
  /** Topics the service writes through its outbox. */
  readonly produces: readonly string[];
  /** Topics the service consumes with the consumer group named after it. */
  readonly consumes: readonly string[];
}

/** Which service writes and reads which topic: the source of the least-privilege MSK policies. */
export const SERVICE_ACCESS: Readonly<Record<ServiceName, ServiceAccess>> = {
  "user-service": { produces: ["user.created"], consumes: [] },
  "order-service": { produces: ["order.processed"], consumes: ["user.created"] },
  "notification-service": { produces: [], consumes: ["user.created", "order.processed"] },
};

/** Topics a service writes, including the dead-letter topics of what it consumes. */
export function writableTopics(service: ServiceName): string[] {
  const access = SERVICE_ACCESS[service];
  return [...access.produces, ...access.consumes.map(deadLetterTopic)];
}
