import { METRICS, RECORDED } from "./metrics";
import {
  BY_SERVICE,
  errorBudget,
  exposing,
  num,
  percent,
  SERVICE_JOBS,
  selector,
  USER_TRAFFIC,
} from "./promql";
import { OBSERVED_SERVICES, RUNBOOK_BASE_URL } from "./registry";
import {
  BURN_RATE_POLICY,
  type BurnWindow,
  type Severity,
  SLI_WINDOWS,
  SLOS,
  type SloName,
  THRESHOLDS,
} from "./thresholds";

/** Rule files, one per area; each area has one promtool test file in `dashboards/promtool/`. */
export const AREAS = ["recording", "http", "slo", "events", "platform", "drift"] as const;
export type Area = (typeof AREAS)[number];
export type AlertArea = Exclude<Area, "recording">;

export type Comparison = ">" | ">=" | "<" | "==";

/**
 * One comparison of an alert: `expr` is the signal (what a dashboard would plot), `op` and
 * `threshold` make it a condition. The live check evaluates `expr` alone and demands data.
 */
export interface Condition {
  readonly expr: string;
  readonly op: Comparison;
  readonly threshold: number;
  /**
   * What the live check queries instead of `expr`, for signals that have data only while failing
   * (`absent_over_time` of a healthy service is empty): the series whose presence they watch.
   * @default expr
   */
  readonly liveSignal?: string;
}

export interface AlertRule {
  /** PascalCase alert name; its runbook is `docs/runbooks/<kebab-case name>.md`. */
  readonly name: string;
  readonly area: AlertArea;
  readonly severity: Severity;
  /** How long the condition must hold before the alert fires. */
  readonly for: string;
  /**
   * Fires when every condition of at least one group holds: groups are joined with `or`, the
   * conditions of a group with `and`, so all conditions must aggregate to the same labels.
   */
  readonly when: readonly (readonly Condition[])[];
  /** Labels added to the alert besides `severity`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** One line, with label values. */
  readonly summary: string;
  /** What happens, where and how much, with label values and the threshold. */
  readonly description: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  /** The rule file it is evaluated in, before that file's alerts. @default "recording" */
  readonly area?: Area;
}

/** Recorded error ratio (5xx share) of user traffic, per environment and service. */
function errorRatioExpr(window: string): string {
  const all = `${METRICS.httpRequests}${selector(USER_TRAFFIC)}`;
  const errors = `${METRICS.httpRequests}${selector(USER_TRAFFIC, `status=~"5.."`)}`;
  // `or 0 * all` keeps a 0 for services without any 5xx, so the ratio always has data.
  return (
    `(sum by (${BY_SERVICE}) (rate(${errors}[${window}])) or 0 * sum by (${BY_SERVICE}) (rate(${all}[${window}])))` +
    ` / sum by (${BY_SERVICE}) (rate(${all}[${window}]))`
  );
}

/** Recorded share of user requests slower than the latency SLO's threshold. */
function slowRatioExpr(window: string): string {
  const bucket = `${METRICS.httpDuration}_bucket${selector(USER_TRAFFIC, `le="${num(SLOS.latency.thresholdSeconds)}"`)}`;
  const count = `${METRICS.httpDuration}_count${selector(USER_TRAFFIC)}`;
  return `1 - sum by (${BY_SERVICE}) (rate(${bucket}[${window}])) / sum by (${BY_SERVICE}) (rate(${count}[${window}]))`;
}

/**
 * The time of each stack's last drift report, remembered: the newest report of the lookback, or
 * else this rule's own last value. Without it, a stack whose reports stopped for longer than the
 * lookback would vanish from the staleness alert, which would resolve itself.
 */
const driftLastReport: RecordingRule = {
  record: RECORDED.driftLastRun,
  expr:
    `max by (env, stack) (last_over_time(${METRICS.driftLastRun}[${THRESHOLDS.driftReportAge.lookback}]))` +
    ` or last_over_time(${RECORDED.driftLastRun}[${THRESHOLDS.driftReportAge.memory}])`,
  area: "drift",
};

export const RECORDING_RULES: readonly RecordingRule[] = [
  ...SLI_WINDOWS.map((w) => ({ record: RECORDED.errorRatio(w), expr: errorRatioExpr(w) })),
  ...SLI_WINDOWS.map((w) => ({ record: RECORDED.slowRatio(w), expr: slowRatioExpr(w) })),
  driftLastReport,
];

/** User requests per service within `window`, for the minimum-traffic guard of a ratio alert. */
function trafficGuard(window: string): Condition {
  return {
    expr: `sum by (${BY_SERVICE}) (increase(${METRICS.httpRequests}${selector(USER_TRAFFIC)}[${window}]))`,
    op: ">=",
    threshold: THRESHOLDS.minTraffic.requests,
  };
}

const SLI_RECORD: Record<SloName, (window: string) => string> = {
  availability: RECORDED.errorRatio,
  latency: RECORDED.slowRatio,
};

function burnConditions(slo: SloName, windows: readonly BurnWindow[]): Condition[][] {
  const budget = num(errorBudget(SLOS[slo].objective));
  return windows.map((w) => [
    { expr: `${SLI_RECORD[slo](w.longWindow)} / ${budget}`, op: ">", threshold: w.factor },
    { expr: `${SLI_RECORD[slo](w.shortWindow)} / ${budget}`, op: ">", threshold: w.factor },
    trafficGuard(w.shortWindow),
  ]);
}

function windowsText(windows: readonly BurnWindow[]): string {
  return windows.map((w) => `${w.factor}x over ${w.longWindow} and ${w.shortWindow}`).join(", or ");
}

const SLO_TEXT: Record<SloName, { title: string; objective: string }> = {
  availability: {
    title: "availability",
    objective: `${percent(SLOS.availability.objective)} of requests without a 5xx`,
  },
  latency: {
    title: "latency",
    objective: `${percent(SLOS.latency.objective)} of requests within ${num(SLOS.latency.thresholdSeconds * 1000)}ms`,
  },
};

function burnRateAlerts(slo: SloName): AlertRule[] {
  const title = slo === "availability" ? "Availability" : "Latency";
  const text = SLO_TEXT[slo];
  return (["page", "ticket"] as const).map((kind) => {
    const policy = BURN_RATE_POLICY[kind];
    return {
      name: `${title}BurnRate${kind === "page" ? "Page" : "Ticket"}`,
      area: "slo",
      severity: policy.severity,
      for: policy.for,
      when: burnConditions(slo, policy.windows),
      labels: { slo },
      summary: `{{ $labels.service }} burns its ${text.title} error budget ${kind === "page" ? "fast" : "steadily"}`,
      description:
        `{{ $labels.service }} in {{ $labels.env }} spends the ${SLOS[slo].periodDays}-day error budget of its ` +
        `${text.title} SLO (${text.objective}) at {{ printf "%.1f" $value }}x the sustainable rate ` +
        `(threshold ${windowsText(policy.windows)}).`,
    };
  });
}

const t = THRESHOLDS;
const SERVICE_NAMES = OBSERVED_SERVICES.map((s) => s.name);
/** A consumer group's partition: every replica in the group reports the lag of all of them. */
const GROUP_PARTITION = `${BY_SERVICE}, group, topic, partition`;
const GROUP_LAG = `max by (${GROUP_PARTITION}) (${METRICS.consumerLag})`;
const userRequests = `${METRICS.httpDuration}_bucket${selector(USER_TRAFFIC)}`;

export const ALERTS: readonly AlertRule[] = [
  {
    name: "ServiceHighErrorRate",
    area: "http",
    severity: "critical",
    for: t.errorRatio.for,
    when: [
      [
        { expr: RECORDED.errorRatio(t.errorRatio.window), op: ">", threshold: t.errorRatio.ratio },
        trafficGuard(t.errorRatio.window),
      ],
    ],
    summary: `{{ $labels.service }} answers more than ${percent(t.errorRatio.ratio)} of requests with errors`,
    description:
      `{{ $labels.service }} in {{ $labels.env }} answered {{ $value | humanizePercentage }} of its requests ` +
      `with a 5xx status over the last ${t.errorRatio.window} (threshold ${percent(t.errorRatio.ratio)}).`,
  },
  {
    name: "ServiceHighLatencyP95",
    area: "http",
    severity: "warning",
    for: t.latencyP95.for,
    when: [
      [
        {
          expr: `histogram_quantile(0.95, sum by (${BY_SERVICE}, le) (rate(${userRequests}[${t.latencyP95.window}])))`,
          op: ">",
          threshold: t.latencyP95.seconds,
        },
      ],
    ],
    summary: `{{ $labels.service }} p95 latency is above ${num(t.latencyP95.seconds)}s`,
    description:
      `The p95 latency of {{ $labels.service }} in {{ $labels.env }} is {{ $value | humanizeDuration }} ` +
      `over the last ${t.latencyP95.window} (threshold ${num(t.latencyP95.seconds)}s).`,
  },
  ...burnRateAlerts("availability"),
  ...burnRateAlerts("latency"),
  {
    name: "KafkaConsumerLagGrowing",
    area: "events",
    severity: "warning",
    for: t.consumerLag.for,
    when: [
      [
        {
          expr: `sum by (${BY_SERVICE}, group, topic) (${GROUP_LAG})`,
          op: ">",
          threshold: t.consumerLag.messages,
        },
        {
          expr: `sum by (${BY_SERVICE}, group, topic) (max by (${GROUP_PARTITION}) (deriv(${METRICS.consumerLag}[${t.consumerLag.window}])))`,
          op: ">",
          threshold: 0,
        },
      ],
    ],
    summary: "Consumer group {{ $labels.group }} falls behind on {{ $labels.topic }}",
    description:
      "Consumer group {{ $labels.group }} of {{ $labels.service }} in {{ $labels.env }} is {{ $value }} messages " +
      `behind on {{ $labels.topic }} and the lag kept growing over ${t.consumerLag.window} ` +
      `(threshold ${t.consumerLag.messages} messages).`,
  },
  {
    name: "OutboxOldestEventTooOld",
    area: "events",
    severity: "critical",
    for: t.outboxOldestAge.for,
    when: [
      [
        {
          expr: `max by (${BY_SERVICE}) (${METRICS.outboxOldestAge})`,
          op: ">",
          threshold: t.outboxOldestAge.seconds,
        },
      ],
    ],
    summary: "{{ $labels.service }} outbox holds events it does not publish",
    description:
      "The oldest unsent outbox event of {{ $labels.service }} in {{ $labels.env }} has waited " +
      `{{ $value | humanizeDuration }} (threshold ${t.outboxOldestAge.seconds}s): the relay is not publishing to Kafka.`,
  },
  {
    name: "KafkaClientDisconnected",
    area: "events",
    severity: "warning",
    for: t.kafkaDisconnected.for,
    when: [[{ expr: `min by (${BY_SERVICE}, client) (${METRICS.kafkaConnected})`, op: "==", threshold: 0 }]],
    summary: "{{ $labels.service }} {{ $labels.client }} cannot reach Kafka",
    description:
      "The {{ $labels.client }} Kafka client of {{ $labels.service }} in {{ $labels.env }} has not reached the " +
      `brokers for ${t.kafkaDisconnected.for}: events wait in the outbox or consumption is paused; the service still serves requests.`,
  },
  {
    name: "EventsDeadLettered",
    area: "events",
    severity: "warning",
    for: t.deadLettered.for,
    when: [
      [
        {
          expr: `sum by (${BY_SERVICE}, topic, group) (increase(${METRICS.eventsDeadLettered}[${t.deadLettered.window}]))`,
          op: ">",
          threshold: 0,
        },
      ],
    ],
    summary: "{{ $labels.service }} dead-lettered events of {{ $labels.topic }}",
    description:
      "{{ $labels.service }} in {{ $labels.env }} moved events of {{ $labels.topic }} (group {{ $labels.group }}) " +
      `to the dead-letter topic: about {{ printf "%.0f" $value }} in the last ${t.deadLettered.window}.`,
  },
  {
    name: "NotificationsFailed",
    area: "events",
    severity: "warning",
    for: t.notificationsFailed.for,
    when: [
      [
        {
          expr: `sum by (${BY_SERVICE}, type) (increase(${METRICS.notifications}${selector(exposing(METRICS.notifications), `status="failed"`)}[${t.notificationsFailed.window}]))`,
          op: ">",
          threshold: 0,
        },
      ],
    ],
    summary: "{{ $labels.service }} gave up {{ $labels.type }} emails",
    description:
      '{{ $labels.service }} in {{ $labels.env }} gave up about {{ printf "%.0f" $value }} {{ $labels.type }} ' +
      `emails in the last ${t.notificationsFailed.window} (rejected by the mail server, or undelivered for too long); they can be redriven.`,
  },
  {
    name: "ServiceTargetDown",
    area: "platform",
    severity: "critical",
    for: t.targetDown.for,
    when: [[{ expr: `${METRICS.up}${selector(SERVICE_JOBS)}`, op: "==", threshold: 0 }]],
    summary: "{{ $labels.service }} cannot be scraped",
    description:
      "Prometheus has failed to scrape {{ $labels.service }} at {{ $labels.instance }} in {{ $labels.env }} " +
      `for ${t.targetDown.for}: the process is down or unreachable.`,
  },
  {
    name: "ServiceRestarting",
    area: "platform",
    severity: "warning",
    for: t.restarts.for,
    when: [
      [
        {
          expr: `changes(${METRICS.processStartTime}${selector(SERVICE_JOBS)}[${t.restarts.window}])`,
          op: ">",
          threshold: t.restarts.restarts,
        },
      ],
    ],
    summary: "{{ $labels.service }} keeps restarting",
    description:
      "{{ $labels.service }} at {{ $labels.instance }} in {{ $labels.env }} restarted {{ $value }} times in the " +
      `last ${t.restarts.window} (threshold ${t.restarts.restarts}).`,
  },
  {
    name: "DatabaseConnectionFailures",
    area: "platform",
    severity: "critical",
    for: t.dbConnectionErrors.for,
    when: [
      [
        {
          expr: `sum by (${BY_SERVICE}) (increase(${METRICS.dbConnectionErrors}[${t.dbConnectionErrors.window}]))`,
          op: ">",
          threshold: t.dbConnectionErrors.errors,
        },
      ],
    ],
    summary: "{{ $labels.service }} cannot connect to PostgreSQL",
    description:
      "{{ $labels.service }} in {{ $labels.env }} fails to connect to PostgreSQL: " +
      `about {{ printf "%.0f" $value }} failed connections in the last ${t.dbConnectionErrors.window} ` +
      `(threshold ${t.dbConnectionErrors.errors}).`,
  },
  {
    name: "InfrastructureDriftDetected",
    area: "drift",
    severity: "warning",
    for: t.drift.for,
    when: [
      [
        {
          // The report's own `severity` label would be overwritten by the alert's; keep it as drift_severity.
          // Each replica of the collector scrapes the same report: `max`, not `sum`, across them.
          expr:
            `max by (env, stack, drift_severity) (label_replace(last_over_time(${METRICS.driftResources}[${t.drift.lookback}]), ` +
            `"drift_severity", "$1", "severity", "(.*)"))`,
          op: ">",
          threshold: 0,
        },
      ],
    ],
    summary: "Stack {{ $labels.stack }} in {{ $labels.env }} drifted from the code",
    description:
      "The last drift report lists resources of stack {{ $labels.stack }} in {{ $labels.env }} changed outside " +
      "Terraform: {{ $value }} of {{ $labels.drift_severity }} severity.",
  },
  {
    name: "InfrastructureDriftReportStale",
    area: "drift",
    severity: "warning",
    for: t.driftReportAge.for,
    when: [
      [
        {
          expr: `time() - ${RECORDED.driftLastRun}`,
          op: ">",
          threshold: t.driftReportAge.maxSeconds,
        },
      ],
    ],
    summary: "No drift report for stack {{ $labels.stack }} in {{ $labels.env }}",
    description:
      "The last drift report for stack {{ $labels.stack }} in {{ $labels.env }} ran {{ $value | humanizeDuration }} ago " +
      `(threshold ${t.driftReportAge.maxSeconds / 3600}h): drift would go unnoticed.`,
  },
  {
    name: "ServiceMetricsAbsent",
    area: "platform",
    severity: "critical",
    for: t.absent.for,
    // One group per service: `absent_over_time` carries the service label of its own matcher.
    when: SERVICE_NAMES.map((service) => {
      const up = `${METRICS.up}${selector(`service="${service}"`)}`;
      return [
        { expr: `absent_over_time(${up}[${t.absent.window}])`, op: "==", threshold: 1, liveSignal: up },
      ];
    }),
    summary: "No metrics from {{ $labels.service }}",
    description:
      `Prometheus has had no scrape of {{ $labels.service }} for ${t.absent.window}: every task is gone from ` +
      "service discovery, or the collector scraping it has died. ServiceTargetDown cannot fire without targets.",
  },
  {
    name: "Watchdog",
    area: "platform",
    severity: "none",
    for: "1m",
    when: [[{ expr: "vector(1)", op: "==", threshold: 1 }]],
    summary: "The alerting pipeline is alive",
    description:
      "Always firing, from the rule evaluator to the dead-man's-switch receiver: when it stops arriving there, " +
      "rule evaluation or Alertmanager is down and no other alert can reach anyone. It needs no scraped metric, " +
      "so a dead collector does not stop it: ServiceMetricsAbsent catches that.",
  },
];

/** `ServiceHighErrorRate` -> `service-high-error-rate`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

export function runbookUrl(alert: Pick<AlertRule, "name">): string {
  return `${RUNBOOK_BASE_URL}/${kebabCase(alert.name)}.md`;
}

/** The alert's PromQL: groups joined with `or`, conditions with `and`. */
export function alertExpr(alert: AlertRule): string {
  const group = (conditions: readonly Condition[]) =>
    conditions.map((c) => `${c.expr} ${c.op} ${num(c.threshold)}`).join(" and ");
  if (alert.when.length === 1) return group(alert.when[0] ?? []);
  return alert.when.map((g) => `(${group(g)})`).join(" or ");
}
