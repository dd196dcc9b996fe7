import type { Severity } from "./thresholds";

/**
 * Alert routing, by severity: `critical` pages the on-call engineer, `warning` opens a ticket.
 * The same tree is rendered with placeholder receivers for a self-run Alertmanager and with SNS
 * receivers for Amazon Managed Service for Prometheus (modules/observability).
 */
export type ReceiverName = "page" | "ticket";

const SEVERITY_RECEIVER: Readonly<Record<Exclude<Severity, "none">, ReceiverName>> = {
  critical: "page",
  warning: "ticket",
};

/** The always-firing alert (dashboards/src/alerts.ts) and the receiver that expects it. */
export const WATCHDOG_ALERT = "Watchdog";
export const DEAD_MANS_SWITCH = "dead-mans-switch";

/** How quickly alerts are grouped and resent; tests shorten them to run in seconds. */
export interface RouteTiming {
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly repeatInterval: string;
}

export const ROUTE_TIMING: RouteTiming = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" };

/** Seconds of an Alertmanager duration of one unit, e.g. `30s`, `5m`, `4h`. */
export function durationSeconds(duration: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(duration);
  if (!match) throw new Error(`durations must be a whole number of s, m or h, got "${duration}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as "s" | "m" | "h"];
}

/**
 * The watchdog's route: sent at once, then resent every two of its group intervals (every minute
 * with the default timing), so each five-minute period of the dead-man's switch in AWS holds
 * several notifications and one lost delivery never leaves a period empty.
 */
function watchdogTiming(timing: RouteTiming) {
  return {
    group_wait: "0s",
    group_interval: timing.groupWait,
    repeat_interval: `${2 * durationSeconds(timing.groupWait)}s`,
  };
}

/** The longest gap between two watchdog notifications: its repeat interval, rounded up to its group interval. */
export function watchdogHeartbeatSeconds(timing: RouteTiming = ROUTE_TIMING): number {
  const route = watchdogTiming(timing);
  return durationSeconds(route.repeat_interval) + durationSeconds(route.group_interval);
}

/** Receiver settings besides `name`, e.g. `{ pagerduty_configs: [...] }` or `{ sns_configs: [...] }`. */
export type ReceiverSettings = Readonly<Record<string, unknown>>;

export interface AlertmanagerConfig {
  readonly global?: Record<string, unknown>;
  readonly route: Record<string, unknown>;
  readonly inhibit_rules: ReadonlyArray<Record<string, unknown>>;
  readonly receivers: ReadonlyArray<Record<string, unknown>>;
}

export interface AlertmanagerConfigOptions {
  /**
   * Where the watchdog goes: an external heartbeat monitor that alerts when it stops arriving.
   * @default a receiver without integrations (the watchdog is dropped, and pages nobody)
   */
  readonly deadMansSwitch?: ReceiverSettings;
  readonly timing?: RouteTiming;
  /** Settings shared by every receiver, e.g. the SMTP smarthost. */
  readonly global?: Record<string, unknown>;
}

export function alertmanagerConfig(
  receivers: Readonly<Record<ReceiverName, ReceiverSettings>>,
  options: AlertmanagerConfigOptions = {},
): AlertmanagerConfig {
  const timing = options.timing ?? ROUTE_TIMING;
  return {
    ...(options.global ? { global: options.global } : {}),
    route: {
      // Anything without a known severity still reaches people, as a ticket.
      receiver: "ticket",
      group_by: ["alertname", "env", "service"],
      group_wait: timing.groupWait,
      group_interval: timing.groupInterval,
      repeat_interval: timing.repeatInterval,
      routes: [
        // First, and without `continue`: the watchdog must never page; the switch expects it every interval.
        {
          matchers: [`alertname="${WATCHDOG_ALERT}"`],
          receiver: DEAD_MANS_SWITCH,
          ...watchdogTiming(timing),
        },
        ...(Object.entries(SEVERITY_RECEIVER) as Array<[Severity, ReceiverName]>).map(
          ([severity, receiver]) => ({
            matchers: [`severity="${severity}"`],
            receiver,
            ...(receiver === "page" ? { repeat_interval: "1h" } : {}),
          }),
        ),
      ],
    },
    inhibit_rules: [
      // A page about a service already covers its tickets (missing labels compare as equal, hence `service`).
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["env", "service"],
      },
      // One incident, one page: the SLO burn-rate page supersedes the raw error-rate page.
      {
        source_matchers: ['alertname="AvailabilityBurnRatePage"'],
        target_matchers: ['alertname="ServiceHighErrorRate"'],
        equal: ["env", "service"],
      },
    ],
    receivers: [
      ...(Object.entries(receivers) as Array<[ReceiverName, ReceiverSettings]>).map(([name, settings]) => ({
        name,
        ...settings,
      })),
      { name: DEAD_MANS_SWITCH, ...(options.deadMansSwitch ?? {}) },
    ],
  };
}

const TITLE =
  "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.env }} {{ .CommonLabels.service }}";
const TEXT =
  "{{ range .Alerts }}{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}";

/** Mailboxes of the self-run Alertmanager: the mail catcher accepts any address. */
export const ALERT_MAILBOXES = {
  page: "oncall@blueprint.local",
  ticket: "tickets@blueprint.local",
  deadMansSwitch: "watchdog@blueprint.local",
} as const;

const email = (to: string) => ({
  email_configs: [{ to, send_resolved: true, headers: { Subject: TITLE }, text: TEXT }],
});

/**
 * The self-run Alertmanager's configuration (local and compose): every receiver is a mailbox of
 * the mail catcher at `smarthost`, which shows pages, tickets and the watchdog as emails.
 */
export function selfRunAlertmanagerConfig(
  smarthost: string,
  timing: RouteTiming = ROUTE_TIMING,
): AlertmanagerConfig {
  return alertmanagerConfig(
    { page: email(ALERT_MAILBOXES.page), ticket: email(ALERT_MAILBOXES.ticket) },
    {
      timing,
      deadMansSwitch: email(ALERT_MAILBOXES.deadMansSwitch),
      global: {
        smtp_smarthost: smarthost,
        smtp_from: "alertmanager@blueprint.local",
        // The mail catcher speaks plain SMTP on loopback or the compose network.
        smtp_require_tls: false,
      },
    },
  );
}

/** A receiver for AMP, whose alert manager only delivers to SNS: one topic. */
export function snsReceiver(topicArn: string, region: string): ReceiverSettings {
  return { sns_configs: [{ topic_arn: topicArn, sigv4: { region }, subject: TITLE, message: TEXT }] };
}

/** The receivers for AMP, one topic each. */
export function snsReceivers(
  topicArns: Readonly<Record<ReceiverName, string>>,
  region: string,
): Record<ReceiverName, ReceiverSettings> {
  return { page: snsReceiver(topicArns.page, region), ticket: snsReceiver(topicArns.ticket, region) };
}
