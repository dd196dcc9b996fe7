import { randomUUID } from "node:crypto";
import { newEvent, type UserCreatedEvent } from "@blueprint/service-kit";
import type { NewNotification } from "../../src/domain/notifications";

/** A valid user.created event for a new user named `name`. */
export function userCreated(name: string): UserCreatedEvent {
  const userId = randomUUID();
  return newEvent("user.created", {
    user_id: userId,
    email: `${userId}@example.com`,
    name,
    created_at: new Date().toISOString(),
  });
}

/** A welcome notification for a new user, as the consumer records it. */
export function welcomeNotification(): NewNotification {
  const userId = randomUUID();
  return {
    id: randomUUID(),
    event_id: randomUUID(),
    event_type: "user.created",
    user_id: userId,
    type: "welcome",
    recipient: `${userId}@example.com`,
    subject: "Welcome",
    body: "Hello\n",
  };
}
