import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Alertmanager } from "../../../scripts/deps/alertmanager";
import { Prometheus } from "../../../scripts/deps/prometheus";
import { loadSettings } from "../../../scripts/deps/settings";
import { MailCatcher, type ReceivedMail } from "../../../scripts/stack/mail-catcher";
import {
  createTestDatabase,
  createTestNamespace,
  serviceEnv,
} from "../../../services/system-tests/support/environment";
import { freePort, ServiceProcess } from "../../../services/system-tests/support/processes";
import { ALERT_MAILBOXES } from "../alertmanager";

/** Seconds instead of minutes: scrape and evaluate every second, alerts fire after 2 s, groups flush at once. */
const FAST = { interval: "1s", alertFor: "2s", resendDelay: "2s" } as const;
const FAST_ROUTES = { groupWait: "1s", groupInterval: "2s", repeatInterval: "1h" } as const;

async function mailTo(
  catcher: MailCatcher,
  to: string,
  subject: RegExp,
  timeoutMs = 30_000,
): Promise<ReceivedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = catcher.messages.find((m) => m.to.includes(to) && subject.test(m.subject));
    if (mail) return mail;
    if (Date.now() > deadline)
      throw new Error(
        `no mail to ${to} matching ${subject} within ${timeoutMs} ms; got: ${catcher.messages.map((m) => `${m.to.join(",")}: ${m.subject}`).join(" | ")}`,
      );
    await sleep(250);
  }
}

describe("alert delivery", () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let catcher: MailCatcher;
  let service: ServiceProcess;
  let alertmanager: Alertmanager;

  beforeAll(async () => {
    const localDir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-alert-delivery-"));
    cleanup.push(async () => fs.rmSync(localDir, { recursive: true, force: true }));
    catcher = new MailCatcher({ smtpPort: 0 });
    await catcher.start();
    cleanup.push(() => catcher.stop());
    const [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
    cleanup.push(
      () => db.drop(),
      () => ns.drop(),
    );
    service = new ServiceProcess("user", await freePort(), serviceEnv("user", db.name, ns.namespace));
    cleanup.push(() => service.stop().then(() => service.kill()));
    await service.start(60_000);

    const settings = loadSettings({
      ...process.env,
      BLUEPRINT_LOCAL_DIR: localDir,
      PROMETHEUS_PORT: String(await freePort()),
      ALERTMANAGER_PORT: String(await freePort()),
    });
    alertmanager = new Alertmanager(settings, {
      smarthost: `127.0.0.1:${catcher.smtpPort}`,
      timing: FAST_ROUTES,
    });
    cleanup.push(() => alertmanager.down());
    await alertmanager.up();
    const prometheus = new Prometheus(settings, {
      targets: { "user-service": [`127.0.0.1:${service.port}`] },
      onlyTargetedJobs: true,
      ...FAST,
    });
    cleanup.push(() => prometheus.down());
    await prometheus.up();
  }, 120_000);

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }, 60_000);

  it("When user-service stops, then ServiceTargetDown pages by email with its runbook, and a resolved email follows its restart", async () => {
    await service.stop();
    const firing = await mailTo(
      catcher,
      ALERT_MAILBOXES.page,
      /^\[FIRING\] ServiceTargetDown local user-service/,
    );
    expect(firing.text).toContain("docs/runbooks/service-target-down.md");
    await service.start(60_000);
    await mailTo(catcher, ALERT_MAILBOXES.page, /^\[RESOLVED\] ServiceTargetDown local user-service/);
  }, 120_000);

  it("When the rules run, then the watchdog reaches the dead-man's-switch mailbox and never pages", async () => {
    await mailTo(catcher, ALERT_MAILBOXES.deadMansSwitch, /^\[FIRING\] Watchdog/);
    expect(
      catcher.messages.filter(
        (m) => /Watchdog/.test(m.subject) && !m.to.includes(ALERT_MAILBOXES.deadMansSwitch),
      ),
    ).toEqual([]);
  }, 40_000);

  it("When the availability burn-rate page fires, then the error-rate page of the same service is inhibited", async () => {
    const base = `http://${alertmanager.address}/api/v2`;
    const labels = { env: "prod", service: "order-service", severity: "critical" };
    const post = await fetch(`${base}/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        { labels: { ...labels, alertname: "AvailabilityBurnRatePage", slo: "availability" } },
        { labels: { ...labels, alertname: "ServiceHighErrorRate" } },
      ]),
    });
    expect(post.status).toBe(200);
    let states: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      const alerts = (await (
        await fetch(`${base}/alerts?filter=service%3D%22order-service%22`)
      ).json()) as Array<{
        labels: Record<string, string>;
        status: { state: string };
      }>;
      states = Object.fromEntries(alerts.map((a) => [a.labels.alertname ?? "", a.status.state]));
      if (states.ServiceHighErrorRate === "suppressed") break;
      await sleep(250);
    }
    expect([states.AvailabilityBurnRatePage, states.ServiceHighErrorRate]).toEqual(["active", "suppressed"]);
  }, 30_000);
});
