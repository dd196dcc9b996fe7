import { defineRoute, type RouteSpec } from "@blueprint/service-kit";
import { z } from "zod";
import { NOTIFICATION_TYPES, type Notifications } from "../domain/notifications";

const Notification = z.object({
  id: z.uuid(),
  event_id: z.uuid().describe("The event this notification was made for; one notification per event."),
  user_id: z.uuid(),
  type: z.enum(NOTIFICATION_TYPES),
  recipient: z.string(),
  subject: z.string(),
  status: z
    .enum(["pending", "sending", "sent", "retrying", "failed"])
    .describe(
      "pending: recorded, not yet attempted; sending: handed to the SMTP server, outcome not yet recorded; " +
        "retrying: an attempt failed, another is scheduled; failed: rejected by the server, undelivered for " +
        "too long, or its outcome is unknown (last_error says which).",
    ),
  attempts: z.int().min(0),
  last_error: z.string().nullable(),
  created_at: z.iso.datetime(),
  sent_at: z.iso.datetime().nullable(),
});

const NotificationList = z.object({ items: z.array(Notification) });
const ByUser = z.strictObject({ user_id: z.uuid().describe("The user whose notifications to list.") });

export function notificationRoutes(notifications: Notifications): RouteSpec[] {
  return [
    defineRoute({
      method: "GET",
      path: "/notifications",
      operationId: "listNotifications",
      summary: "List a user's notifications with delivery status and attempts, oldest first",
      tags: ["notifications"],
      query: ByUser,
      access: { scope: "notifications:read", owner: { query: "user_id" } },
      responses: { 200: { description: "the user's notifications", schema: NotificationList } },
      handler: async ({ query }) => ({
        status: 200,
        body: { items: await notifications.listForUser(query.user_id) },
      }),
    }),
  ];
}
