/**
 * The platform catalog: the one description of each service, keyed by name, and of every Kafka
 * topic. Infrastructure wiring, the dashboards registry, the local stack and the test harness
 * derive from it; adding a service means one entry here plus the service's own code.
 */

import { SERVICE_METRICS } from "./metric-names";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteEntry {
  readonly method: HttpMethod;
  /** OpenAPI path template, e.g. `/users/{id}`; it must start with the service's `pathPrefix`. */
  readonly path: string;
}

/**
 * Secrets a service may need. Each is one Secrets Manager entry per service holding a JSON object;
 * `variables` maps the environment variable the service reads to the key in that object.
 */
export const SECRET_KINDS = {
  database: {
    description: "PostgreSQL login: JSON with username and password",
    variables: { PGUSER: "username", PGPASSWORD: "password" },
  },
  smtp: {
    description: "SMTP relay: JSON with host, port, username, password",
    variables: { SMTP_HOST: "host", SMTP_PORT: "port", SMTP_USER: "username", SMTP_PASSWORD: "password" },
  },
} as const satisfies Record<
  string,
  { readonly description: string; readonly variables: Readonly<Record<string, string>> }
>;

export type SecretKind = keyof typeof SECRET_KINDS;

/**
 * OAuth scopes the APIs accept, with what each grants. Routes declare which one they need; the
 * identity provider each environment creates offers exactly these.
 */
export const AUTH_SCOPES = {
  "users:write": "Create users",
  "users:read": "Read any user",
  "orders:write": "Place orders for any user",
  "orders:read": "Read any user's orders",
  "notifications:read": "Read any user's notifications",
  "audit:read": "Read the audit log of every service",
} as const satisfies Record<string, string>;

export type AuthScope = keyof typeof AUTH_SCOPES;

export interface ServiceSpec {
  /** HTTP port the service listens on locally and in containers. */
  readonly port: number;
  /** PostgreSQL login role of the service; it owns only `schema`. */
  readonly database: { readonly role: string; readonly schema: string };
  /** Path prefix the load balancer routes to the service. */
  readonly pathPrefix: string;
  /**
   * The business routes; the first is the key route its dashboard shows. Probes are common to all;
   * `<pathPrefix>/audit` is the kit's audit log route, which every service serves.
   */
  readonly routes: readonly RouteEntry[];
  /** Topics the service writes through its outbox. */
  readonly produces: readonly string[];
  /** Topics the service consumes, in a consumer group named after the service. */
  readonly consumes: readonly string[];
  /** Secrets the service reads at start; `database` is always one of them. */
  readonly secrets: readonly SecretKind[];
  /**
   * Service-specific metrics (`SERVICE_METRICS` in metric-names.ts) the service exposes beyond those
   * every service has; the kit registers only these, and dashboards query them only on these services.
   */
  readonly metrics: readonly string[];
}

export interface TopicSpec {
  readonly partitions: number;
}

export interface Catalog {
  /** Database shared by all services; isolation is by schema and role. */
  readonly database: string;
  readonly services: Readonly<Record<string, ServiceSpec>>;
  readonly topics: Readonly<Record<string, TopicSpec>>;
}

export const CATALOG = {
  database: "blueprint",
  services: {
    "user-service": {
      port: 8081,
      database: { role: "user_service", schema: "users" },
      pathPrefix: "/users",
      routes: [
        { method: "POST", path: "/users" },
        { method: "GET", path: "/users/{id}" },
        { method: "GET", path: "/users" },
        { method: "GET", path: "/users/audit" },
      ],
      produces: ["user.created"],
      consumes: [],
      secrets: ["database"],
      metrics: [],
    },
    "order-service": {
      port: 8082,
      database: { role: "order_service", schema: "orders" },
      pathPrefix: "/orders",
      routes: [
        { method: "POST", path: "/orders" },
        { method: "GET", path: "/orders/{id}" },
        { method: "GET", path: "/orders" },
        { method: "GET", path: "/orders/audit" },
      ],
      produces: ["order.processed"],
      consumes: ["user.created"],
      secrets: ["database"],
      metrics: [],
    },
    "notification-service": {
      port: 8083,
      database: { role: "notification_service", schema: "notifications" },
      pathPrefix: "/notifications",
      routes: [
        { method: "GET", path: "/notifications" },
        { method: "GET", path: "/notifications/audit" },
      ],
      produces: [],
      consumes: ["user.created", "order.processed"],
      secrets: ["database", "smtp"],
      metrics: ["notifications_total", "event_end_to_end_latency_seconds"],
    },
  },
  // Brokers run with auto.create.topics.enable=false: topics are created from this list.
  topics: {
    "user.created": { partitions: 6 },
    "order.processed": { partitions: 6 },
  },
} as const satisfies Catalog;

export type ServiceName = keyof typeof CATALOG.services;
export type TopicName = keyof typeof CATALOG.topics;

export interface ServiceEntry<N extends string = string> extends ServiceSpec {
  readonly name: N;
}

export interface TopicEntry extends TopicSpec {
  readonly name: string;
}

/** `/users/{id}` (OpenAPI) to `/users/:id` (Express), also the `endpoint` label of the HTTP metrics. */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ":$1");
}

/** Dead-letter topic of `topic`: where consumers park events they cannot process, with the error. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlt`;
}

/**
 * The consumer group that remembers how far the dead letters of `topic` (a dead-letter topic) were
 * redriven; the redrive's cloud role may join exactly these.
 */
export function redriveGroup(topic: string): string {
  return `redrive.${topic}`;
}

/** Dead letters are rare, inspected by people and replayed in order: one partition. */
const DEAD_LETTER_PARTITIONS = 1;

/** The catalog's services with their names, in catalog order. */
export function serviceEntries(): ServiceEntry<ServiceName>[];
export function serviceEntries(catalog: Catalog): ServiceEntry[];
export function serviceEntries(catalog: Catalog = CATALOG): ServiceEntry[] {
  return Object.entries(catalog.services).map(([name, spec]) => ({ name, ...spec }));
}

/** One service's entry; throws naming the service when the catalog has no such entry. */
export function serviceEntry<N extends ServiceName>(name: N): ServiceEntry<N>;
export function serviceEntry(name: string, catalog: Catalog): ServiceEntry;
export function serviceEntry(name: string, catalog: Catalog = CATALOG): ServiceEntry {
  const spec = catalog.services[name];
  if (!spec) {
    const known = Object.keys(catalog.services).join(", ");
    throw new Error(`service "${name}" is not in the catalog (known: ${known})`);
  }
  return { name, ...spec };
}

/** Every topic the brokers must hold: the catalog's topics and a dead-letter topic per consumed one. */
export function topicEntries(catalog: Catalog = CATALOG): TopicEntry[] {
  const consumed = new Set(Object.values(catalog.services).flatMap((s) => s.consumes));
  return [
    ...Object.entries(catalog.topics).map(([name, spec]) => ({ name, ...spec })),
    ...[...consumed].map((topic) => ({ name: deadLetterTopic(topic), partitions: DEAD_LETTER_PARTITIONS })),
  ];
}

/** Topics a service writes: its own events and the dead-letter topics of what it consumes. */
export function writableTopics(entry: ServiceEntry): string[] {
  return [...entry.produces, ...entry.consumes.map(deadLetterTopic)];
}

/** Name of a service's secret, relative to the environment's secret prefix. */
export function secretName(service: string, kind: SecretKind): string {
  return `${service}/${kind}`;
}

const SERVICE_METRIC_NAMES: ReadonlySet<string> = new Set(Object.values(SERVICE_METRICS));

/**
 * Checks what the type system cannot: unique ports, roles and schemas, routes under the service's
 * prefix and each listed once, declared topics and service metrics only, a database secret for
 * every service. Throws listing every problem.
 */
export function validateCatalog(catalog: Catalog): void {
  const problems: string[] = [];
  const entries = serviceEntries(catalog);
  const unique = (what: string, value: (e: ServiceEntry) => string | number) => {
    const seen = new Map<string | number, string>();
    for (const e of entries) {
      const v = value(e);
      const other = seen.get(v);
      if (other) problems.push(`${e.name} and ${other} share ${what} ${v}`);
      seen.set(v, e.name);
    }
  };
  unique("port", (e) => e.port);
  unique("database role", (e) => e.database.role);
  unique("database schema", (e) => e.database.schema);
  unique("path prefix", (e) => e.pathPrefix);
  for (const e of entries) {
    if (!/^[a-z][a-z0-9-]*$/.test(e.name))
      problems.push(`service name "${e.name}" must be lower-case kebab-case`);
    if (!Number.isInteger(e.port) || e.port < 1024 || e.port > 65535) {
      problems.push(`${e.name}: port ${e.port} must be an integer from 1024 to 65535`);
    }
    if (!/^\/[a-z0-9-]+$/.test(e.pathPrefix)) {
      problems.push(`${e.name}: path prefix "${e.pathPrefix}" must be one path segment such as "/users"`);
    }
    if (e.routes.length === 0) problems.push(`${e.name}: declares no routes`);
    const routeKeys = new Set<string>();
    for (const r of e.routes) {
      if (r.path !== e.pathPrefix && !r.path.startsWith(`${e.pathPrefix}/`)) {
        problems.push(`${e.name}: route ${r.method} ${r.path} is outside its prefix ${e.pathPrefix}`);
      }
      const routeKey = `${r.method} ${r.path}`;
      if (routeKeys.has(routeKey)) problems.push(`${e.name}: route ${routeKey} is listed more than once`);
      routeKeys.add(routeKey);
    }
    for (const topic of [...e.produces, ...e.consumes]) {
      if (!catalog.topics[topic]) problems.push(`${e.name}: topic "${topic}" is not in the catalog's topics`);
    }
    for (const metric of e.metrics) {
      if (!SERVICE_METRIC_NAMES.has(metric))
        problems.push(`${e.name}: metric "${metric}" is not a kit service metric`);
    }
    if (!e.secrets.includes("database"))
      problems.push(`${e.name}: every service needs the "database" secret`);
  }
  if (problems.length > 0) throw new Error(`invalid service catalog:\n- ${problems.join("\n- ")}`);
}
