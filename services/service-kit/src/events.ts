import { randomUUID } from "node:crypto";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import orderProcessedSchema from "./contracts/order.processed.v1.schema.json";
import userCreatedSchema from "./contracts/user.created.v1.schema.json";

/** Fields every event carries at the top level of its JSON value. */
export interface EventEnvelope {
  readonly event_id: string;
  readonly event_type: string;
  readonly version: number;
  readonly occurred_at: string;
}

export interface UserCreatedEvent extends EventEnvelope {
  readonly event_type: "user.created";
  readonly version: 1;
  readonly user_id: string;
  readonly email: string;
  readonly name: string;
  readonly created_at: string;
}

export interface OrderItem {
  readonly sku: string;
  readonly quantity: number;
  readonly unit_price: number;
}

export interface OrderProcessedEvent extends EventEnvelope {
  readonly event_type: "order.processed";
  readonly version: 1;
  readonly order_id: string;
  readonly user_id: string;
  readonly email: string;
  readonly status: "processed";
  readonly total: number;
  readonly items: readonly OrderItem[];
  readonly processed_at: string;
}

export interface EventTypes {
  "user.created": UserCreatedEvent;
  "order.processed": OrderProcessedEvent;
}

export type EventType = keyof EventTypes;

/** The JSON Schemas of the event contract, by event type (files under src/contracts). */
export const EVENT_SCHEMAS = {
  "user.created": userCreatedSchema,
  "order.processed": orderProcessedSchema,
} as const satisfies Readonly<Record<EventType, object>>;

/** Raised when a message does not match its event contract; such messages are dead-lettered at once. */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContractError";
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validators = Object.fromEntries(
  Object.entries(EVENT_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]),
) as Record<EventType, ReturnType<typeof ajv.compile>>;

function isEventType(type: string): type is EventType {
  return Object.hasOwn(validators, type);
}

/**
 * Checks an event against the contract of its `event_type` before it is written: a producer that
 * breaks the contract is a bug, and an event consumers would dead-letter must not be published.
 */
export function assertContract(event: EventEnvelope): void {
  if (!isEventType(event.event_type)) {
    throw new ContractError(`no contract for event type ${event.event_type}`);
  }
  const validate = validators[event.event_type];
  if (!validate(event)) {
    throw new ContractError(
      `${event.event_type} contract violated by its producer: ${ajv.errorsText(validate.errors, { dataVar: "event" })}`,
    );
  }
}

/** Parses a message value and checks it against the contract of `type`. */
export function decodeEvent<T extends EventType>(type: T, value: string | null): EventTypes[T] {
  if (value === null) throw new ContractError("message has no value");
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ContractError("message value is not valid JSON");
  }
  const validate = validators[type];
  if (!validate(parsed)) {
    throw new ContractError(
      `${type} contract violated: ${ajv.errorsText(validate.errors, { dataVar: "event" })}`,
    );
  }
  return parsed as EventTypes[T];
}

/** Builds an event: a new event id, the type's current version and `occurred_at`, then the payload. */
export function newEvent<T extends EventType>(
  type: T,
  payload: Omit<EventTypes[T], keyof EventEnvelope>,
  occurredAt: Date = new Date(),
): EventTypes[T] {
  return {
    event_id: randomUUID(),
    event_type: type,
    version: 1,
    occurred_at: occurredAt.toISOString(),
    ...payload,
  } as EventTypes[T];
}
