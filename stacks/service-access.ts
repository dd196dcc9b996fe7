import { deadLetterTopic, EVENT_FLOW, type ServiceName } from "@blueprint/service-kit/catalog";

/** Topics a service writes: its own events and the dead-letter topics of what it consumes. */
export function writableTopics(service: ServiceName): string[] {
  const flow = EVENT_FLOW[service];
  return [...flow.produces, ...flow.consumes.map(deadLetterTopic)];
}
