/**
 * Thresholds and SLOs: the numbers alerts and dashboards share. Durations are Prometheus durations.
 * Change a number here, run `npm run dashboards:generate`, and update the promtool test that pins it.
 */

/** Service level objectives: availability at least 99.5 %, 99 % of requests within 200 ms, over 30 days. */
export const SLOS = {
  availability: {
    /** Share of non-probe requests answered without a 5xx. */
    objective: 0.995,
    periodDays: 30,
  },
  latency: {
    /** Requests at or under this duration are good; it must be a histogram bucket bound. */
    thresholdSeconds: 0.2,
    /**
     * Share of requests that must be good: 99 % leaves 1 % of requests (about 7 hours of full
     * slowness a month) as the error budget.
     */
    objective: 0.99,
    periodDays: 30,
  },
} as const;

export type SloName = keyof typeof SLOS;

/** `critical` pages, `warning` opens a ticket; `none` is the watchdog's, routed to the dead-man's switch. */
export type Severity = "critical" | "warning" | "none";

/**
 * Multiwindow, multi-burn-rate alerting (Google SRE workbook, chapter 5): an alert fires when both
 * the long and the short window burn the error budget faster than `factor` times the sustainable
 * rate. The short window makes the alert stop soon after the burn stops.
 */
export interface BurnWindow {
  readonly factor: number;
  readonly longWindow: string;
  readonly shortWindow: string;
}

export const BURN_RATE_POLICY = {
  /** Pages: 2 % of a 30-day budget in 1 hour, or 5 % in 6 hours. */
  page: {
    severity: "critical",
    for: "2m",
    windows: [
      { factor: 14.4, longWindow: "1h", shortWindow: "5m" },
      { factor: 6, longWindow: "6h", shortWindow: "30m" },
    ],
  },
  /** Tickets: 10 % of the budget in 3 days, spent at the sustainable rate. */
  ticket: {
    severity: "warning",
    for: "1h",
    windows: [{ factor: 1, longWindow: "3d", shortWindow: "6h" }],
  },
} as const satisfies Record<string, { severity: Severity; for: string; windows: readonly BurnWindow[] }>;

/** Every window a burn-rate alert or a dashboard reads; each gets recording rules. */
export const SLI_WINDOWS = ["5m", "30m", "1h", "6h", "3d"] as const;

export const THRESHOLDS = {
  /** Page when more than 5 % of user requests fail. */
  errorRatio: { ratio: 0.05, window: "5m", for: "5m" },
  /**
   * Error-rate and burn-rate alerts hold only while a service serves at least `requests` user
   * requests in the alert's (short) window: two failures out of three requests at night are not a page.
   */
  minTraffic: { requests: 30 },
  /** Ticket when p95 latency stays above 1 s. */
  latencyP95: { seconds: 1, window: "5m", for: "10m" },
  /** Lag above `messages` that kept growing over `window`. */
  consumerLag: { messages: 100, window: "10m", for: "10m" },
  /** The relay publishes within milliseconds; an event waiting minutes means it is stuck. */
  outboxOldestAge: { seconds: 120, for: "5m" },
  /** A Kafka client that has not reached the brokers for `for`; longer than a broker restart. */
  kafkaDisconnected: { for: "5m" },
  /** Any dead-lettered event within `window` is worth a look. */
  deadLettered: { window: "15m", for: "1m" },
  /** Any notification given up within `window` is an email nobody received unless it is redriven. */
  notificationsFailed: { window: "15m", for: "1m" },
  targetDown: { for: "2m" },
  /** More than `restarts` process starts within `window` is a crash loop. */
  restarts: { restarts: 2, window: "15m", for: "5m" },
  /**
   * More than `errors` failed connections within `window`: PostgreSQL closing one idle pooled
   * connection (a failover, an idle timeout) is one error and no outage.
   */
  dbConnectionErrors: { errors: 5, window: "5m", for: "2m" },
  /** No scrape of a service for `window`: every task gone from discovery, or the collector itself dead. */
  absent: { window: "10m", for: "5m" },
  /**
   * The drift report runs daily; its last value counts for `lookback` so a report pushed once
   * keeps the alert firing until the next run.
   */
  drift: { lookback: "26h", for: "5m" },
  /**
   * The daily drift report missing for two days means drift would go unnoticed. The time of each
   * stack's last report is remembered by a recording rule that reads back its own last value (over
   * `memory`, so a Prometheus restart shorter than that keeps it): the alert keeps firing however
   * long the reports stay away.
   */
  driftReportAge: { maxSeconds: 2 * 24 * 3600, lookback: "7d", memory: "6h", for: "1h" },
} as const;
