import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { ALERTS, type AlertRule } from "../alerts";
import { METRICS, RECORDED } from "../metrics";
import { errorBudget, exposing, num, percent, selector, USER_TRAFFIC } from "../promql";
import { DRIFT_JOB, OBSERVED_SERVICES, type ObservedService } from "../registry";
import { BURN_RATE_POLICY, SLOS, THRESHOLDS } from "../thresholds";
import { alertList, dashboard, stat, timeseries } from "./kit";

function alert(name: string): AlertRule {
  const found = ALERTS.find((a) => a.name === name);
  if (!found) throw new Error(`dashboards link the runbook of ${name}, which is not an alert`);
  return found;
}

/** Every panel filters on the dashboard's variables; `service` is fixed on a service's own dashboard. */
const ENV = `env=~"$env"`;
const ONE_SERVICE = `service="$service"`;
const SERVICES = `service=~"$service"`;
const RATE = "[$__rate_interval]";

const QUANTILES = [0.5, 0.95, 0.99] as const;

function durationPanel(quantile: number) {
  const p = `p${num(quantile * 100)}`;
  const bucket = `${METRICS.httpDuration}_bucket${selector(ENV, ONE_SERVICE, USER_TRAFFIC)}`;
  return timeseries({
    title: `Duration ${p} by endpoint`,
    description: `${p} of request duration per route template, from the duration histogram.`,
    unit: "s",
    queries: [
      {
        expr: `histogram_quantile(${num(quantile)}, sum by (le, method, endpoint) (rate(${bucket}${RATE})))`,
        legend: "{{method}} {{endpoint}}",
      },
    ],
    ...(quantile === 0.95
      ? { alerts: [alert("ServiceHighLatencyP95")], threshold: THRESHOLDS.latencyP95.seconds }
      : {}),
    width: 8,
  });
}

function burnPanel(slo: "availability" | "latency") {
  const record = slo === "availability" ? RECORDED.errorRatio : RECORDED.slowRatio;
  const budget = num(errorBudget(SLOS[slo].objective));
  const windows = [...BURN_RATE_POLICY.page.windows, ...BURN_RATE_POLICY.ticket.windows].map(
    (w) => w.longWindow,
  );
  const prefix = slo === "availability" ? "Availability" : "Latency";
  return timeseries({
    title: `${prefix} error budget burn rate`,
    description:
      `How many times faster than sustainable the ${slo} SLO's 30-day error budget is spent ` +
      "(1 = budget lasts exactly the period). Pages at 14.4 (1h) and 6 (6h), tickets at 1 (3d).",
    unit: "x",
    queries: windows.map((w) => ({
      expr: `${record(w)}${selector(ENV, ONE_SERVICE)} / ${budget}`,
      legend: `over ${w}`,
    })),
    alerts: [alert(`${prefix}BurnRatePage`), alert(`${prefix}BurnRateTicket`)],
    threshold: BURN_RATE_POLICY.page.windows[0].factor,
  });
}

/** One service: its traffic, errors, latency by endpoint, SLOs and connection pool. */
function serviceDashboard(service: ObservedService): Dashboard {
  const requests = (...m: string[]) => `${METRICS.httpRequests}${selector(...m, ENV, ONE_SERVICE)}`;
  const byEndpoint = "sum by (method, endpoint)";
  const key = service.keyRoute;
  return dashboard({
    uid: `blueprint-${service.name}`,
    title: `Blueprint / ${service.name}`,
    description: `Requests, errors and latency of ${service.name}, by route template, against its SLOs.`,
    service: service.name,
    rows: [
      {
        title: "Traffic and errors",
        panels: [
          timeseries({
            title: "HTTP Requests",
            description:
              `${key.method} ${key.endpoint} requests per second per status, over all replicas (the service's key ` +
              "route, the first in its catalog entry); a rising 5xx line is failures.",
            unit: "reqps",
            queries: [
              {
                expr: `sum by (status) (rate(${METRICS.httpRequests}${selector(`method="${key.method}"`, `endpoint="${key.endpoint}"`, ENV, ONE_SERVICE)}${RATE}))`,
                legend: "{{status}}",
              },
            ],
            width: 8,
          }),
          timeseries({
            title: "Request rate by endpoint",
            description: "Requests per second per route template, probes included.",
            unit: "reqps",
            queries: [
              { expr: `${byEndpoint} (rate(${requests()}${RATE}))`, legend: "{{method}} {{endpoint}}" },
            ],
            width: 8,
          }),
          timeseries({
            title: "Error ratio by endpoint",
            description: "Share of requests answered with a 5xx, per route template (0 when none failed).",
            unit: "percentunit",
            queries: [
              {
                expr:
                  `(${byEndpoint} (rate(${requests(`status=~"5.."`)}${RATE})) or 0 * ${byEndpoint} (rate(${requests()}${RATE})))` +
                  ` / ${byEndpoint} (rate(${requests()}${RATE}))`,
                legend: "{{method}} {{endpoint}}",
              },
            ],
            alerts: [alert("ServiceHighErrorRate")],
            threshold: THRESHOLDS.errorRatio.ratio,
            width: 8,
          }),
          timeseries({
            title: "Status codes",
            description: "Requests per second by status code: 4xx are callers' mistakes, 5xx are ours.",
            unit: "reqps",
            queries: [{ expr: `sum by (status) (rate(${requests()}${RATE}))`, legend: "{{status}}" }],
          }),
          timeseries({
            title: "Service errors",
            description: "5xx responses and unhandled errors per second, as the service counts them.",
            unit: "ops",
            queries: [
              {
                expr: `sum by (service) (rate(${METRICS.serviceErrors}${selector(ENV, ONE_SERVICE)}${RATE}))`,
                legend: "{{service}}",
              },
            ],
            alerts: [alert("ServiceHighErrorRate")],
          }),
        ],
      },
      {
        title: "Latency",
        panels: QUANTILES.map(durationPanel),
      },
      {
        title: "SLOs",
        panels: [
          stat({
            title: "Availability, last hour",
            description: `Share of user requests without a 5xx; the SLO is ${percent(SLOS.availability.objective)}.`,
            unit: "percentunit",
            queries: [
              { expr: `1 - ${RECORDED.errorRatio("1h")}${selector(ENV, ONE_SERVICE)}`, legend: "{{env}}" },
            ],
            width: 6,
          }),
          stat({
            title: `Requests within ${num(SLOS.latency.thresholdSeconds * 1000)} ms, last hour`,
            description: `Share of user requests at or under the latency SLO's bound; the SLO is ${percent(SLOS.latency.objective)}.`,
            unit: "percentunit",
            queries: [
              { expr: `1 - ${RECORDED.slowRatio("1h")}${selector(ENV, ONE_SERVICE)}`, legend: "{{env}}" },
            ],
            width: 6,
          }),
          burnPanel("availability"),
          burnPanel("latency"),
        ],
      },
      {
        title: "Database pool",
        panels: [
          timeseries({
            title: "Connections by state",
            description: "Pool connections open (total), idle, and requests waiting for one.",
            unit: "short",
            queries: [
              {
                expr: `sum by (state) (${METRICS.dbPool}${selector(ENV, ONE_SERVICE)})`,
                legend: "{{state}}",
              },
            ],
            alerts: [alert("DatabaseConnectionFailures")],
          }),
          timeseries({
            title: "Connection errors",
            description: "Failed attempts to connect to PostgreSQL per second.",
            unit: "ops",
            queries: [
              {
                expr: `sum by (service) (rate(${METRICS.dbConnectionErrors}${selector(ENV, ONE_SERVICE)}${RATE}))`,
                legend: "{{service}}",
              },
            ],
            alerts: [alert("DatabaseConnectionFailures")],
          }),
        ],
      },
    ],
  });
}

/** The event flow: user created, published, consumed, processed, notified; backlog and failures. */
function eventFlowDashboard(): Dashboard {
  const m = (metric: string, ...matchers: string[]) => `${metric}${selector(...matchers, ENV, SERVICES)}`;
  const e2e = `${METRICS.endToEndLatency}_bucket${selector(ENV, exposing(METRICS.endToEndLatency))}`;
  return dashboard({
    uid: "blueprint-event-flow",
    title: "Blueprint / Event flow",
    description:
      "Events from the outbox to Kafka to the consumers: throughput per topic, lag per partition, " +
      "backlog, failures and the end-to-end latency from user creation to notification.",
    rows: [
      {
        title: "Throughput",
        panels: [
          timeseries({
            title: "Events published per topic",
            description: "Events the outbox relays published to Kafka per second.",
            unit: "ops",
            queries: [
              { expr: `sum by (topic) (rate(${m(METRICS.eventsPublished)}${RATE}))`, legend: "{{topic}}" },
            ],
            width: 8,
          }),
          timeseries({
            title: "Events consumed per topic and group",
            description: "Events processed successfully per second by each consumer group.",
            unit: "ops",
            queries: [
              {
                expr: `sum by (topic, group) (rate(${m(METRICS.eventsConsumed)}${RATE}))`,
                legend: "{{group}} <- {{topic}}",
              },
            ],
            width: 8,
          }),
          timeseries({
            title: "Notifications by type and status",
            description:
              "Notifications recorded per second: sent, retrying (SMTP failed, will retry) or failed.",
            unit: "ops",
            queries: [
              {
                expr: `sum by (type, status) (rate(${METRICS.notifications}${selector(ENV, exposing(METRICS.notifications))}${RATE}))`,
                legend: "{{type}} {{status}}",
              },
            ],
            width: 8,
          }),
          timeseries({
            title: "End-to-end latency, user created to notification recorded",
            description:
              "From the originating user.created event's occurred_at to the notification recorded, " +
              "measured by the notification service.",
            unit: "s",
            queries: QUANTILES.map((q) => ({
              expr: `histogram_quantile(${num(q)}, sum by (le, event_type) (rate(${e2e}${RATE})))`,
              legend: `p${num(q * 100)} {{event_type}}`,
            })),
            width: 24,
          }),
        ],
      },
      {
        title: "Backlog",
        panels: [
          timeseries({
            title: "Consumer lag per group and partition",
            description:
              "Messages not yet committed by each group, per topic partition (high watermark - committed).",
            unit: "short",
            queries: [
              {
                // Every replica of a group reports the group's lag: one value per partition, not their sum.
                expr: `max by (group, topic, partition) (${m(METRICS.consumerLag)})`,
                legend: "{{group}} {{topic}}[{{partition}}]",
              },
            ],
            alerts: [alert("KafkaConsumerLagGrowing")],
            threshold: THRESHOLDS.consumerLag.messages,
            width: 8,
          }),
          timeseries({
            title: "Outbox backlog",
            description: "Outbox rows written but not yet published, per service.",
            unit: "short",
            // Every replica counts the same outbox table: `max`, not `sum`.
            queries: [{ expr: `max by (service) (${m(METRICS.outboxBacklog)})`, legend: "{{service}}" }],
            alerts: [alert("OutboxOldestEventTooOld")],
            width: 8,
          }),
          timeseries({
            title: "Outbox oldest event age",
            description: "How long the oldest unsent outbox row has waited (0 when the outbox is empty).",
            unit: "s",
            queries: [{ expr: `max by (service) (${m(METRICS.outboxOldestAge)})`, legend: "{{service}}" }],
            alerts: [alert("OutboxOldestEventTooOld")],
            threshold: THRESHOLDS.outboxOldestAge.seconds,
            width: 8,
          }),
        ],
      },
      {
        title: "Failures",
        panels: [
          timeseries({
            title: "Retried events",
            description: "Event deliveries retried with backoff per second, per topic and group.",
            unit: "ops",
            queries: [
              {
                expr: `sum by (topic, group) (rate(${m(METRICS.eventsRetried)}${RATE}))`,
                legend: "{{group}} <- {{topic}}",
              },
            ],
          }),
          timeseries({
            title: "Dead-lettered events",
            description:
              "Events moved to the dead-letter topic after their last attempt or a contract violation.",
            unit: "ops",
            queries: [
              {
                expr: `sum by (service, topic, group) (increase(${m(METRICS.eventsDeadLettered)}${RATE}))`,
                legend: "{{group}} <- {{topic}}",
              },
            ],
            alerts: [alert("EventsDeadLettered")],
          }),
        ],
      },
    ],
  });
}

/** Rate, errors, duration and the availability error budget left, one value per service. */
function redSummary() {
  const all = `${METRICS.httpRequests}${selector(ENV, SERVICES, USER_TRAFFIC)}`;
  const failed = `${METRICS.httpRequests}${selector(ENV, SERVICES, USER_TRAFFIC, `status=~"5.."`)}`;
  const bucket = `${METRICS.httpDuration}_bucket${selector(ENV, SERVICES, USER_TRAFFIC)}`;
  const period = `${SLOS.availability.periodDays}d`;
  const budget = num(errorBudget(SLOS.availability.objective));
  const ratio30d =
    `(sum by (service) (increase(${failed}[${period}])) or 0 * sum by (service) (increase(${all}[${period}])))` +
    ` / sum by (service) (increase(${all}[${period}]))`;
  return [
    stat({
      title: "Rate",
      description: "User requests per second per service, over all replicas (probes excluded).",
      unit: "reqps",
      queries: [{ expr: `sum by (service) (rate(${all}${RATE}))`, legend: "{{service}}" }],
      width: 6,
    }),
    stat({
      title: "Errors",
      description: `Share of user requests answered with a 5xx over ${THRESHOLDS.errorRatio.window}, per service.`,
      unit: "percentunit",
      queries: [
        {
          expr: `${RECORDED.errorRatio(THRESHOLDS.errorRatio.window)}${selector(ENV, SERVICES)}`,
          legend: "{{service}}",
        },
      ],
      alerts: [alert("ServiceHighErrorRate"), alert("AvailabilityBurnRatePage")],
      threshold: THRESHOLDS.errorRatio.ratio,
      width: 6,
    }),
    stat({
      title: "Duration p95",
      description: "95th percentile of user request duration per service, over all replicas.",
      unit: "s",
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (service, le) (rate(${bucket}${RATE})))`,
          legend: "{{service}}",
        },
      ],
      alerts: [alert("ServiceHighLatencyP95")],
      threshold: THRESHOLDS.latencyP95.seconds,
      width: 6,
    }),
    stat({
      title: `Availability error budget left (${period})`,
      description:
        `Share of the ${period} availability error budget (${percent(errorBudget(SLOS.availability.objective))} of requests) ` +
        "not yet spent; below 0 the SLO is missed.",
      unit: "percentunit",
      queries: [{ expr: `1 - (${ratio30d}) / ${budget}`, legend: "{{service}}" }],
      alerts: [alert("AvailabilityBurnRateTicket")],
      width: 6,
    }),
  ];
}

/** The platform: are targets up, how much they use, do they restart, has infrastructure drifted. */
function platformDashboard(): Dashboard {
  const m = (metric: string, ...matchers: string[]) => `${metric}${selector(...matchers, ENV, SERVICES)}`;
  return dashboard({
    uid: "blueprint-platform",
    title: "Blueprint / Platform overview",
    description:
      "Health of every service process and of the infrastructure: scrape targets, restarts, " +
      "connection pools, event loop, memory, CPU and Terraform drift.",
    rows: [
      {
        title: "Services at a glance (RED)",
        panels: redSummary(),
      },
      {
        title: "Alerts",
        panels: [
          alertList({
            title: "Firing and pending alerts",
            description:
              "Every alert of the blueprint's rules that fires or is pending now, with its labels.",
          }),
        ],
      },
      {
        title: "Targets",
        panels: [
          stat({
            title: "Targets up",
            description: "Whether Prometheus can scrape each service instance right now.",
            unit: "none",
            queries: [
              { expr: `${METRICS.up}${selector(ENV, SERVICES)}`, legend: "{{service}} {{instance}}" },
            ],
            alerts: [alert("ServiceTargetDown")],
            upDown: true,
          }),
          timeseries({
            title: "Restarts in the last 15 minutes",
            description: "Process restarts seen by Prometheus (changes of the process start time).",
            unit: "short",
            queries: [
              {
                expr: `changes(${m(METRICS.processStartTime)}[${THRESHOLDS.restarts.window}])`,
                legend: "{{service}} {{instance}}",
              },
            ],
            alerts: [alert("ServiceRestarting")],
            threshold: THRESHOLDS.restarts.restarts,
          }),
        ],
      },
      {
        title: "Resources",
        panels: [
          timeseries({
            title: "Database pool usage",
            description: "Connections in use (open minus idle) and requests waiting for one, per service.",
            unit: "short",
            queries: [
              {
                expr:
                  `sum by (service) (${m(METRICS.dbPool, `state="total"`)}) - ` +
                  `sum by (service) (${m(METRICS.dbPool, `state="idle"`)})`,
                legend: "{{service}} in use",
              },
              {
                expr: `sum by (service) (${m(METRICS.dbPool, `state="waiting"`)})`,
                legend: "{{service}} waiting",
              },
            ],
            alerts: [alert("DatabaseConnectionFailures")],
            width: 8,
          }),
          timeseries({
            title: "Event-loop lag p99",
            description:
              "How late Node.js runs ready callbacks; sustained lag means CPU-bound work blocks requests.",
            unit: "s",
            queries: [{ expr: `max by (service) (${m(METRICS.eventLoopLagP99)})`, legend: "{{service}}" }],
            width: 8,
          }),
          timeseries({
            title: "Memory",
            description: "Resident memory of each process and the V8 heap in use.",
            unit: "bytes",
            queries: [
              { expr: `sum by (service) (${m(METRICS.residentMemory)})`, legend: "{{service}} resident" },
              { expr: `sum by (service) (${m(METRICS.heapUsed)})`, legend: "{{service}} heap used" },
            ],
            width: 8,
          }),
          timeseries({
            title: "CPU",
            description: "CPU seconds used per second: 100% is one core busy.",
            unit: "percentunit",
            queries: [
              { expr: `sum by (service) (rate(${m(METRICS.processCpu)}${RATE}))`, legend: "{{service}}" },
            ],
            width: 24,
          }),
        ],
      },
      {
        title: "Infrastructure drift",
        panels: [
          stat({
            title: "Drifted resources",
            description:
              "Resources changed outside Terraform in the last drift report, per environment, stack and severity " +
              `(job ${DRIFT_JOB}; the report's env is the cloud environment, so the env variable does not filter it).`,
            unit: "none",
            queries: [
              {
                expr: `sum by (env, stack, severity) (last_over_time(${METRICS.driftResources}[${THRESHOLDS.drift.lookback}]))`,
                legend: "{{env}} {{stack}} {{severity}}",
              },
            ],
            alerts: [alert("InfrastructureDriftDetected")],
            threshold: 1,
          }),
          stat({
            title: "Age of the last drift report",
            description: "Time since the drift workflow last reported each stack; it runs daily.",
            unit: "s",
            queries: [
              {
                // The alert's own signal: the remembered last report, beyond the lookback.
                expr: `time() - ${RECORDED.driftLastRun}${selector(ENV)}`,
                legend: "{{env}} {{stack}}",
              },
            ],
            alerts: [alert("InfrastructureDriftReportStale")],
            threshold: THRESHOLDS.driftReportAge.maxSeconds,
          }),
        ],
      },
    ],
  });
}

/** Every dashboard, by file name under `dashboards/generated/grafana/`. */
export function dashboards(): Readonly<Record<string, Dashboard>> {
  const all = [...OBSERVED_SERVICES.map(serviceDashboard), eventFlowDashboard(), platformDashboard()];
  return Object.fromEntries(all.map((d) => [`${d.uid}.json`, d]));
}
