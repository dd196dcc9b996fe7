import { PROBE_ENDPOINTS, SERVICE_JOB_REGEX, servicesExposing } from "./registry";

/** A label matcher list, e.g. `{a="b",c=~"d"}`; empty matchers give an empty string. */
export function selector(...matchers: readonly string[]): string {
  const present = matchers.filter((m) => m !== "");
  return present.length === 0 ? "" : `{${present.join(",")}}`;
}

/** Requests from users, not from probes or scrapes. */
export const USER_TRAFFIC = `endpoint!~"${PROBE_ENDPOINTS.join("|")}"`;

/** Only the services' own scrape jobs (not Prometheus itself, not the drift report). */
export const SERVICE_JOBS = `job=~"${SERVICE_JOB_REGEX}"`;

/** Matches the services that expose the service-specific `metric`; queries of it must carry this. */
export function exposing(metric: string): string {
  return `service=~"${servicesExposing(metric).join("|")}"`;
}

/** Labels alerts and recorded SLIs keep: one series per environment and service. */
export const BY_SERVICE = "env, service";

/** Renders a ratio threshold as PromQL and people read it: 0.05 -> "0.05". */
export function num(value: number): string {
  return Number(value.toPrecision(12)).toString();
}

/** The share of the error budget left per SLO objective: 1 - 0.995 = 0.005, without float noise. */
export function errorBudget(objective: number): number {
  return Number((1 - objective).toPrecision(12));
}

/** 0.05 -> "5%"; 0.995 -> "99.5%". */
export function percent(ratio: number): string {
  return `${num(ratio * 100)}%`;
}
