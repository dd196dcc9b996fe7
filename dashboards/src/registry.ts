import { EVENT_FLOW, SERVICES, type ServiceName, TOPICS } from "@blueprint/service-kit/catalog";

/**
 * The observability registry: what each service serves and which events it moves. Ports, service
 * and topic names come from the platform catalog; routes and consumer groups are added here.
 * Scrape configs, rules, dashboards and the live check all read this file.
 */

/** Where the repository is browsed; alert runbook links point into it. Forks change this line. */
export const REPOSITORY_URL = "https://github.com/example-org/event-platform-blueprint";
/** Runbooks live in `docs/runbooks/<alert-name-in-kebab-case>.md` on the default branch. */
export const RUNBOOK_BASE_URL = `${REPOSITORY_URL}/blob/main/docs/runbooks`;

export type TopicName = (typeof TOPICS)[number]["name"];

export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Route template as the services label it (`endpoint`), never a raw path. */
  readonly endpoint: string;
}

export interface Subscription {
  readonly topic: TopicName;
  /** Kafka consumer group, the `group` label of the consumer metrics. */
  readonly group: string;
}

export interface ObservedService {
  readonly name: ServiceName;
  readonly port: number;
  /** The business routes; probes (`PROBE_ENDPOINTS`) are common to all services. */
  readonly routes: readonly Route[];
  /**
   * The route shown in the dashboard's "HTTP Requests" panel (seed 004 shows `POST /users`
   * for the user service).
   */
  readonly keyRoute: Route;
  /** Topics the service publishes through its outbox. */
  readonly publishes: readonly TopicName[];
  readonly consumes: readonly Subscription[];
}

/** Liveness, readiness and metrics endpoints: not user traffic, so outside the SLOs. */
export const PROBE_ENDPOINTS = ["/health", "/ready", "/metrics"] as const;

/** Publishing and consuming as the catalog declares it; each service consumes in its own group. */
const events = (name: ServiceName): Pick<ObservedService, "publishes" | "consumes"> => ({
  publishes: EVENT_FLOW[name].produces,
  consumes: EVENT_FLOW[name].consumes.map((topic) => ({ topic, group: name })),
});

const port = (name: ServiceName): number => {
  const entry = SERVICES.find((s) => s.name === name);
  if (!entry) throw new Error(`service ${name} is not in @blueprint/service-kit/catalog`);
  return entry.port;
};

export const OBSERVED_SERVICES: readonly ObservedService[] = [
  {
    name: "user-service",
    port: port("user-service"),
    routes: [
      { method: "POST", endpoint: "/users" },
      { method: "GET", endpoint: "/users/:id" },
      { method: "GET", endpoint: "/users" },
    ],
    keyRoute: { method: "POST", endpoint: "/users" },
    ...events("user-service"),
  },
  {
    name: "order-service",
    port: port("order-service"),
    routes: [
      { method: "POST", endpoint: "/orders" },
      { method: "GET", endpoint: "/orders/:id" },
      { method: "GET", endpoint: "/orders" },
    ],
    keyRoute: { method: "POST", endpoint: "/orders" },
    ...events("order-service"),
  },
  {
    name: "notification-service",
    port: port("notification-service"),
    routes: [{ method: "GET", endpoint: "/notifications" }],
    keyRoute: { method: "GET", endpoint: "/notifications" },
    ...events("notification-service"),
  },
];

/** Every catalog service must be observed; a new service without routes here fails loudly. */
for (const entry of SERVICES) {
  if (!OBSERVED_SERVICES.some((s) => s.name === entry.name)) {
    throw new Error(`dashboards/src/registry.ts: add ${entry.name} to OBSERVED_SERVICES`);
  }
}

export const SERVICE_NAMES: readonly ServiceName[] = OBSERVED_SERVICES.map((s) => s.name);
export const TOPIC_NAMES: readonly TopicName[] = TOPICS.map((t) => t.name);

/** `job` values of the service scrape jobs (job name = service name), as a regex alternation. */
export const SERVICE_JOB_REGEX = SERVICE_NAMES.join("|");

/** The scrape job that reads the drift report of the delivery pipeline. */
export const DRIFT_JOB = "terraform-drift";

/** Label values and addresses of the places Prometheus runs. */
export const ENVIRONMENTS = {
  /** `npm run deps:up`: Prometheus on the host, services on 127.0.0.1. */
  local: { env: "local", host: "127.0.0.1" },
  /** `docker-compose-local.yml`: services reached by their compose service names. */
  compose: { env: "local" },
} as const;

/** Port of the local drift exporter (the live check and `dashboards/live/drift-exporter.ts`). */
export const DRIFT_EXPORTER_PORT = 9469;

/** Scrape and rule evaluation interval of the local and compose Prometheus. */
export const LOCAL_SCRAPE_INTERVAL = "5s";
