import { type RunningService, startService, type UserCreatedEvent } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { MailCatcher } from "../../../scripts/stack/mail-catcher";
import { api } from "../../system-tests/support/auth";
import {
  createTestDatabase,
  createTestNamespace,
  eventually,
  serviceEnv,
} from "../../system-tests/support/environment";
import { publishRaw } from "../../system-tests/support/kafka";
import { validateOpenApi } from "../../system-tests/support/openapi";
import { notificationService } from "../src/service";
import { userCreated } from "./support/fixtures";

interface Listed {
  id: string;
  type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}

describe("notification-service: once per event, SMTP retries visible in the status", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ns: Awaited<ReturnType<typeof createTestNamespace>>;
  let svc: RunningService;
  const smtp = new MailCatcher({ smtpPort: 0 });

  const list = async (userId: string): Promise<Listed[]> =>
    (await api(svc.server).get("/notifications").query({ user_id: userId })).body.items;
  const publishUser = async (event: UserCreatedEvent) =>
    publishRaw(`${ns.namespace}user.created`, [{ key: event.user_id, value: JSON.stringify(event) }]);
  beforeAll(async () => {
    [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace(), smtp.start()]);
    svc = await startService(notificationService, {
      env: serviceEnv("notification", db.name, ns.namespace, {
        SMTP_PORT: String(smtp.smtpPort),
        DELIVERY_BACKOFF_MAX_MS: "300",
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await svc?.stop();
    await smtp.stop();
    await Promise.all([db?.drop(), ns?.drop()]);
  });

  it("When user.created is delivered twice, then one welcome notification is recorded and one email sent", async () => {
    const event = userCreated("Twice");
    await publishUser(event);
    await publishUser(event);
    const [welcome] = await eventually("the welcome email", async () => {
      const items = await list(event.user_id);
      return items[0]?.status === "sent" ? items : undefined;
    });
    expect(welcome).toMatchObject({ type: "welcome", status: "sent", attempts: 1, last_error: null });
    await eventually("both deliveries consumed", async () =>
      /events_consumed_total\{topic="user.created",group="notification-service",service="notification-service"\} 2/.test(
        await svc.context.metrics.render(),
      )
        ? true
        : undefined,
    );
    expect(await list(event.user_id)).toHaveLength(1);
    expect(smtp.to(event.email).map((m) => m.subject)).toEqual(["Welcome, Twice"]);
    expect(await svc.context.metrics.render()).toMatch(
      /event_end_to_end_latency_seconds_count\{service="notification-service",event_type="user.created"\} [1-9]/,
    );
  });

  it("When the SMTP server is down for more than eight attempts, then the notification keeps retrying with the error shown, and is sent once when it is back", async () => {
    await smtp.stopSmtp();
    const event = userCreated("Patient");
    await publishUser(event);
    const retrying = await eventually(
      "nine failed attempts",
      async () => {
        const [n] = await list(event.user_id);
        // Between attempts: a claimed notification shows `sending` while its attempt is in flight.
        return n && n.attempts >= 9 && n.status === "retrying" ? n : undefined;
      },
      30_000,
    );
    expect(retrying).toMatchObject({ status: "retrying", sent_at: null });
    expect(retrying.last_error).toMatch(/ECONNREFUSED|connect/i);

    await smtp.start();
    const sent = await eventually(
      "delivery after SMTP returned",
      async () => {
        const [n] = await list(event.user_id);
        return n?.status === "sent" ? n : undefined;
      },
      20_000,
    );
    expect(sent.attempts).toBeGreaterThanOrEqual(10);
    expect(sent.last_error).toBeNull();
    const [mail] = smtp.to(event.email);
    expect(smtp.to(event.email)).toHaveLength(1);
    expect(mail?.headers["message-id"]).toBe(`<${sent.id}@blueprint.local>`);
    const metrics = await svc.context.metrics.render();
    expect(metrics).toMatch(
      /notifications_total\{type="welcome",status="retrying",service="notification-service"\} (9|[1-9]\d)/,
    );
    expect(metrics).toMatch(
      /notifications_total\{type="welcome",status="sent",service="notification-service"\} [2-9]/,
    );
  }, 60_000);

  it("When the user id is malformed or missing, then 400 names user_id; the OpenAPI document is valid", async () => {
    const bad = await api(svc.server).get("/notifications").query({ user_id: "7" });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: "user_id", message: expect.any(String) }]);
    expect((await api(svc.server).get("/notifications")).status).toBe(400);
    const doc = (await api(svc.server).get("/openapi.json")).body;
    expect(await validateOpenApi(doc)).toEqual({ valid: true, version: "3.1", errors: null });
  });
});
