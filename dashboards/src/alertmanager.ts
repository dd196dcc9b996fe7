import type { Severity } from "./thresholds";

/**
 * Alert routing, by severity: `critical` pages the on-call engineer, `warning` opens a ticket.
 * The same tree is rendered with placeholder receivers for a self-run Alertmanager and with SNS
 * receivers for Amazon Managed Service for Prometheus (modules/observability).
 */
export type ReceiverName = "page" | "ticket";

const SEVERITY_RECEIVER: Readonly<Record<Severity, ReceiverName>> = {
  critical: "page",
  warning: "ticket",
};

/** Receiver settings besides `name`, e.g. `{ pagerduty_configs: [...] }` or `{ sns_configs: [...] }`. */
export type ReceiverSettings = Readonly<Record<string, unknown>>;

export interface AlertmanagerConfig {
  readonly route: Record<string, unknown>;
  readonly inhibit_rules: ReadonlyArray<Record<string, unknown>>;
  readonly receivers: ReadonlyArray<Record<string, unknown>>;
}

export function alertmanagerConfig(
  receivers: Readonly<Record<ReceiverName, ReceiverSettings>>,
): AlertmanagerConfig {
  return {
    route: {
      // Anything without a known severity still reaches people, as a ticket.
      receiver: "ticket",
      group_by: ["alertname", "env", "service"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: (Object.entries(SEVERITY_RECEIVER) as Array<[Severity, ReceiverName]>).map(
        ([severity, receiver]) => ({
          matchers: [`severity="${severity}"`],
          receiver,
          ...(receiver === "page" ? { repeat_interval: "1h" } : {}),
        }),
      ),
    },
    // A page about a service already covers its tickets (missing labels compare as equal, hence `service`).
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["env", "service"],
      },
    ],
    receivers: (Object.entries(receivers) as Array<[ReceiverName, ReceiverSettings]>).map(
      ([name, settings]) => ({ name, ...settings }),
    ),
  };
}

/** Secrets of the self-run Alertmanager: files the runtime mounts from its environment. */
const ALERTMANAGER_SECRET_FILES = {
  pagerdutyRoutingKey: "/etc/alertmanager/secrets/pagerduty-routing-key",
  slackWebhookUrl: "/etc/alertmanager/secrets/slack-webhook-url",
} as const;

const TITLE =
  "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.env }} {{ .CommonLabels.service }}";
const TEXT =
  "{{ range .Alerts }}{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}";

/**
 * The self-run Alertmanager's configuration (compose, or a cluster without AMP). Alertmanager
 * does not expand environment variables, so secrets are `*_file` references: compose fills them
 * from environment variables through `secrets:`, Kubernetes from a Secret volume.
 */
export function selfRunAlertmanagerConfig(): AlertmanagerConfig {
  return alertmanagerConfig({
    page: {
      pagerduty_configs: [
        {
          routing_key_file: ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey,
          description: TITLE,
          details: {
            summary: "{{ .CommonAnnotations.summary }}",
            runbook: "{{ .CommonAnnotations.runbook_url }}",
          },
        },
      ],
    },
    ticket: {
      slack_configs: [
        {
          api_url_file: ALERTMANAGER_SECRET_FILES.slackWebhookUrl,
          channel: "#blueprint-alerts",
          send_resolved: true,
          title: TITLE,
          text: TEXT,
        },
      ],
    },
  });
}

/** The receivers for AMP, whose alert manager only delivers to SNS. */
export function snsReceivers(
  topicArns: Readonly<Record<ReceiverName, string>>,
  region: string,
): Record<ReceiverName, ReceiverSettings> {
  const sns = (topicArn: string) => ({
    sns_configs: [{ topic_arn: topicArn, sigv4: { region }, subject: TITLE, message: TEXT }],
  });
  return { page: sns(topicArns.page), ticket: sns(topicArns.ticket) };
}
