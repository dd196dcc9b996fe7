import {
  expressPath,
  type HttpMethod,
  type ServiceName,
  serviceEntries,
  type TopicName,
} from "@blueprint/service-kit/catalog";

/**
 * The observability registry: what each service serves and which events it moves, derived from the
 * platform catalog. Scrape configs, rules, dashboards and the live check all read this file.
 */

/** Where the repository is browsed; alert runbook links point into it. Forks change this line. */
export const REPOSITORY_URL = "https://github.com/example-org/event-platform-blueprint";
/** Runbooks live in `docs/runbooks/<alert-name-in-kebab-case>.md` on the default branch. */
export const RUNBOOK_BASE_URL = `${REPOSITORY_URL}/blob/main/docs/runbooks`;

export interface Route {
  readonly method: HttpMethod;
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
  /** The route shown in the dashboard's "HTTP Requests" panel: the catalog's first route. */
  readonly keyRoute: Route;
  /** Topics the service publishes through its outbox. */
  readonly publishes: readonly TopicName[];
  readonly consumes: readonly Subscription[];
  /** Service-specific metrics it exposes beyond the kit's (the catalog entry's `metrics`). */
  readonly metrics: readonly string[];
}

/** Liveness, readiness and metrics endpoints: not user traffic, so outside the SLOs. */
export const PROBE_ENDPOINTS = ["/health", "/ready", "/metrics"] as const;

/** Each service consumes in its own consumer group, named after the service. */
export const OBSERVED_SERVICES: readonly ObservedService[] = serviceEntries().map((entry) => {
  const routes = entry.routes.map((r) => ({ method: r.method, endpoint: expressPath(r.path) }));
  const [keyRoute] = routes;
  if (!keyRoute) throw new Error(`catalog: ${entry.name} declares no routes`);
  return {
    name: entry.name,
    port: entry.port,
    routes,
    keyRoute,
    publishes: entry.produces as readonly TopicName[],
    consumes: entry.consumes.map((topic) => ({ topic: topic as TopicName, group: entry.name })),
    metrics: entry.metrics,
  };
});

const SERVICE_NAMES: readonly ServiceName[] = OBSERVED_SERVICES.map((s) => s.name);

/** The services whose catalog entry declares the service-specific `metric`, the only ones exposing it. */
export function servicesExposing(metric: string): ServiceName[] {
  const names = OBSERVED_SERVICES.filter((s) => s.metrics.includes(metric)).map((s) => s.name);
  if (names.length === 0) throw new Error(`no service declares the metric ${metric} in the catalog`);
  return names;
}

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

/** Port of the local drift exporter (the live check and `dashboards/src/live/drift-exporter.ts`). */
export const DRIFT_EXPORTER_PORT = 9469;

/** Alertmanager's port in the compose network; scripts/deps/alertmanager.ts relocates the local one. */
export const ALERTMANAGER_PORT = 9093;

/** The mail catcher's SMTP address, where the self-run Alertmanager delivers (scripts/stack/mail-catcher.ts, mailpit). */
export const MAIL_CATCHER = { local: "127.0.0.1:1025", compose: "mailpit:1025" } as const;

/**
 * The Grafana line the dashboards are written for: the SDK emits schema 42 (Grafana 12), compose
 * runs this version and the Managed Grafana workspaces must be created with it.
 */
export const GRAFANA_VERSION = "12.4";

/** Scrape and rule evaluation interval of the local and compose Prometheus. */
export const LOCAL_SCRAPE_INTERVAL = "5s";
