import { randomUUID } from "node:crypto";
import type { OrderProcessedEvent, Queryable, UserCreatedEvent } from "@blueprint/service-kit";
import type { NotificationRepository } from "../data-access/notification-repository";

export const NOTIFICATION_TYPES = ["welcome", "order_confirmation"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export type NotificationStatus = "pending" | "sending" | "sent" | "retrying" | "failed";

/** A notification as recorded and listed. */
export interface Notification {
  readonly id: string;
  readonly event_id: string;
  readonly user_id: string;
  readonly type: NotificationType;
  readonly recipient: string;
  readonly subject: string;
  readonly status: NotificationStatus;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly created_at: string;
  readonly sent_at: string | null;
}

/** What gets recorded for an event, before delivery. */
export interface NewNotification {
  readonly id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly user_id: string;
  readonly type: NotificationType;
  readonly recipient: string;
  readonly subject: string;
  readonly body: string;
}

function money(value: number): string {
  return value.toFixed(2);
}

export function welcomeFor(event: UserCreatedEvent): NewNotification {
  return {
    id: randomUUID(),
    event_id: event.event_id,
    event_type: event.event_type,
    user_id: event.user_id,
    type: "welcome",
    recipient: event.email,
    subject: `Welcome, ${event.name}`,
    body: `Hello ${event.name},\n\nyour account ${event.email} is ready.\n`,
  };
}

export function confirmationFor(event: OrderProcessedEvent): NewNotification {
  const lines = event.items.map((i) => `  ${i.quantity} x ${i.sku} at ${money(i.unit_price)}`);
  return {
    id: randomUUID(),
    event_id: event.event_id,
    event_type: event.event_type,
    user_id: event.user_id,
    type: "order_confirmation",
    recipient: event.email,
    subject: `Order ${event.order_id} confirmed`,
    body: `Your order ${event.order_id} was processed.\n\n${lines.join("\n")}\n\nTotal: ${money(event.total)}\n`,
  };
}

/** The notification use cases: record once per event (consumers), list (HTTP). */
export class Notifications {
  constructor(private readonly repository: NotificationRepository) {}

  record(notification: NewNotification, tx: Queryable): Promise<void> {
    return this.repository.insert(notification, tx);
  }

  listForUser(userId: string): Promise<Notification[]> {
    return this.repository.findByUser(userId);
  }
}
