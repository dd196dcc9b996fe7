import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type IncomingMessage, Messaging } from "@blueprint/service-kit";
import { devToken } from "@blueprint/service-kit/dev-tokens";
import type { LocalSettings } from "../deps/settings";
import type { StackPorts } from "./stack";

interface Notification {
  type: string;
  status: string;
  attempts: number;
  sent_at: string | null;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`no ${what} within ${timeoutMs / 1000}s; is the stack up (npm run stack:up)?`);
}

// biome-ignore lint/suspicious/noExplicitAny: demo output reads a few fields of each service's JSON.
type Json = any;

async function call(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Drives the event flow against a running stack and prints the trail with timings:
 * user -> user.created -> order -> order.processed -> notifications -> emails.
 */
export async function demo(settings: LocalSettings, ports: StackPorts, log = console.log): Promise<void> {
  const host = settings.host;
  const user = `http://${host}:${ports.services["user-service"]}`;
  const order = `http://${host}:${ports.services["order-service"]}`;
  const notification = `http://${host}:${ports.services["notification-service"]}`;
  for (const url of [user, order, notification]) {
    const ready = await call("GET", `${url}/ready`).catch(() => ({ status: 0, body: {} }));
    if (ready.status !== 200)
      throw new Error(`${url}/ready is not 200; start the stack with npm run stack:up`);
  }

  const seen: IncomingMessage[] = [];
  const messaging = new Messaging({
    brokers: [...settings.kafkaBrokers],
    clientId: "demo",
    logger: createLogger("demo", "silent"),
  });
  const consumer = messaging.consumer({ groupId: `demo-${randomUUID()}`, fromBeginning: false });
  await consumer.start(["user.created", "order.processed"], async (messages, control) => {
    seen.push(...messages);
    const last = messages[messages.length - 1];
    if (last) control.resolve(last.offset);
  });
  await sleep(1_000);

  const t0 = Date.now();
  const at = () => `${String(Date.now() - t0).padStart(6)} ms`;
  try {
    const email = `demo-${Date.now()}@example.com`;
    // A sign-up front end may create users (users:write); the new user then acts with its own token.
    const signup = devToken({ sub: "demo-signup", scopes: ["users:write"] }, settings.localDir);
    const created = await call("POST", `${user}/users`, { email, name: "Demo User" }, signup);
    if (created.status !== 201)
      throw new Error(`POST /users answered ${created.status}: ${JSON.stringify(created.body)}`);
    const userId: string = created.body.id;
    const own = devToken({ sub: userId }, settings.localDir);
    log(`${at()}  POST /users                -> 201 user ${userId} <${email}>`);

    const userEvent = await until("user.created", async () => seen.find((m) => m.key === userId));
    log(`${at()}  user.created              partition ${userEvent.partition} offset ${userEvent.offset}`);

    let rejected = 0;
    const placed = await until("order accepted", async () => {
      const res = await call(
        "POST",
        `${order}/orders`,
        {
          user_id: userId,
          items: [
            { sku: "BOOK-42", quantity: 1, unit_price: 29.9 },
            { sku: "MUG-7", quantity: 2, unit_price: 8.5 },
          ],
        },
        own,
      );
      if (res.status === 422) {
        rejected += 1;
        return undefined;
      }
      return res;
    });
    log(
      `${at()}  POST /orders               -> ${placed.status} order ${placed.body.id} total ${placed.body.total}` +
        (rejected > 0 ? ` (after ${rejected} x 422 while order-service learned of the user)` : ""),
    );

    const orderEvent = await until("order.processed", async () => seen.find((m) => m.key === placed.body.id));
    log(`${at()}  order.processed           partition ${orderEvent.partition} offset ${orderEvent.offset}`);

    const sent = await until("both notifications sent", async () => {
      const res = await call("GET", `${notification}/notifications?user_id=${userId}`, undefined, own);
      const items = res.body.items as Notification[];
      return items.length === 2 && items.every((n) => n.status === "sent") ? items : undefined;
    });
    for (const n of sent)
      log(`${at()}  notification ${n.type.padEnd(19)} ${n.status} after ${n.attempts} attempt(s)`);

    const mails = (await fetch(`http://${host}:${ports.mailUi}/messages`).then((r) => r.json())) as Array<{
      to: string[];
      subject: string;
    }>;
    for (const m of mails.filter((m) => m.to.includes(email)))
      log(`${at()}  email received            "${m.subject}"`);
    log(`\nmail catcher: http://${host}:${ports.mailUi}   metrics: ${user}/metrics`);
  } finally {
    await consumer.stop();
  }
}
