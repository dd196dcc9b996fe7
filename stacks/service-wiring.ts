import {
  type Catalog,
  SECRET_KINDS,
  type SecretKind,
  type ServiceEntry,
  secretName,
  serviceEntries,
} from "@blueprint/service-kit/catalog";
import { DRAIN } from "@blueprint/service-kit/config";
import type { EnvironmentConfig, ServiceSizing } from "../environments";
import type { TokenVerification } from "../modules/identity/cognito-identity";
import type { ServiceSecretSpec } from "../modules/secrets/service-secrets";

/** Kubernetes namespace of the services on EKS. */
export const WORKLOAD_NAMESPACE = "blueprint";

/** Name of the dead-letter redrive's role suffix and, on EKS, of its service account. */
export const REDRIVE_ACCOUNT = "redrive";

/** Where the services find PostgreSQL, the brokers and the trace collector. */
export interface ServiceEndpoints {
  /** Tokens from the data and messaging layers. */
  readonly databaseHost: string;
  readonly kafkaBrokers: string;
  /** OTLP/HTTP address of the collector that sends the spans to X-Ray. */
  readonly traceCollectorUrl: string;
}

/** One environment variable a service reads from one key of one of its Secrets Manager secrets. */
export interface SecretBinding {
  readonly variable: string;
  /** Secret name relative to the environment's secret prefix, e.g. `user-service/database`. */
  readonly secret: string;
  /** Key in the secret's JSON object. */
  readonly key: string;
}

/** Looks up a Secrets Manager secret by its name relative to the environment's prefix. */
export type SecretLookup = (name: string) => { readonly arn: string };

/**
 * What a service's secret must hold, e.g. `PostgreSQL login of user-service (role user_service,
 * schema users): JSON with username and password`: the operator writing the value reads it there.
 */
function secretDescription(entry: ServiceEntry, kind: SecretKind): string {
  const [what, holds] = SECRET_KINDS[kind].description.split(": ", 2);
  const of =
    kind === "database"
      ? `${entry.name} (role ${entry.database.role}, schema ${entry.database.schema})`
      : entry.name;
  return `${what} of ${of}: ${holds}`;
}

/** NodePort of a service on EKS: its container port moved into the Kubernetes NodePort range. */
export function nodePortOf(containerPort: number): number {
  return containerPort + 22_000;
}

/**
 * How each catalog service is wired in one environment, the same for ECS and EKS: its plain
 * settings, the secret variables it reads, its sizing and the port the load balancer targets.
 * Stacks read services from here, never by name, so a new catalog entry is wired everywhere.
 */
export class ServiceWiring {
  constructor(
    readonly catalog: Catalog,
    private readonly env: EnvironmentConfig,
    /** Who issues the tokens the services accept: the identity stack, or the environment's external provider. */
    private readonly auth: TokenVerification,
  ) {}

  /** The catalog's services, in catalog order. */
  services(): ServiceEntry[] {
    return serviceEntries(this.catalog);
  }

  /** The port the load balancer targets: the container port on ECS (awsvpc), the NodePort on EKS. */
  targetPort(entry: ServiceEntry): number {
    return this.env.compute.kind === "eks" ? nodePortOf(entry.port) : entry.port;
  }

  /** Load balancer routes, one per service. */
  routes(): { name: string; pathPrefix: string; targetPort: number }[] {
    return this.services().map((s) => ({
      name: s.name,
      pathPrefix: s.pathPrefix,
      targetPort: this.targetPort(s),
    }));
  }

  /** The Secrets Manager entries every service reads, with what each must hold. */
  secretSpecs(): ServiceSecretSpec[] {
    return this.services().flatMap((s) =>
      s.secrets.map((kind) => ({
        name: secretName(s.name, kind),
        description: secretDescription(s, kind),
      })),
    );
  }

  /** Replicas and resources of the service in this environment; throws naming what is missing. */
  sizing(entry: ServiceEntry): ServiceSizing {
    const sizing = (this.env.services as Readonly<Record<string, ServiceSizing | undefined>>)[entry.name];
    if (!sizing) {
      throw new Error(
        `environment "${this.env.name}": services must give the sizing of "${entry.name}" (every catalog service needs one)`,
      );
    }
    return sizing;
  }

  /** Plain settings of a service in the cloud; nothing secret. */
  environment(entry: ServiceEntry, endpoints: ServiceEndpoints): Record<string, string> {
    return {
      SERVICE_NAME: entry.name,
      PORT: String(entry.port),
      LOG_LEVEL: "info",
      PGHOST: endpoints.databaseHost,
      PGPORT: "5432",
      PGDATABASE: this.catalog.database,
      PGSSLMODE: "verify-full",
      KAFKA_BROKERS: endpoints.kafkaBrokers,
      KAFKA_AUTH: "aws-msk-iam",
      AWS_REGION: this.env.region,
      // On EKS the preStop sleep already waited before SIGTERM; on ECS the service waits itself.
      SHUTDOWN_DELAY_MS: this.env.compute.kind === "eks" ? "0" : String(DRAIN.delaySeconds * 1000),
      SHUTDOWN_TIMEOUT_MS: String(DRAIN.timeoutSeconds * 1000),
      AUTH_ISSUER: this.auth.issuer,
      AUTH_AUDIENCE: this.auth.audience,
      AUTH_JWKS_URL: this.auth.jwksUrl,
      ...this.tracing(endpoints.traceCollectorUrl),
    };
  }

  /** OTLP to the collector, sampled at the environment's ratio unless a caller already decided. */
  private tracing(collectorUrl: string): Record<string, string> {
    return {
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: String(this.env.observability.traceSampleRatio),
    };
  }

  /** Every secret variable of the service, from the kinds of secret its catalog entry lists. */
  secretBindings(entry: ServiceEntry): SecretBinding[] {
    return entry.secrets.flatMap((kind) =>
      Object.entries(SECRET_KINDS[kind].variables).map(([variable, key]) => ({
        variable,
        secret: secretName(entry.name, kind),
        key,
      })),
    );
  }

  /** ARNs of the service's own secrets, for its least-privilege role. */
  secretArns(entry: ServiceEntry, secrets: SecretLookup): string[] {
    return entry.secrets.map((kind) => secrets(secretName(entry.name, kind)).arn);
  }

  /**
   * Where each secret variable comes from, `<secret ARN>:<JSON key>::` by variable: the container's
   * `secrets` on ECS (ECS resolves them at task start), ENV_VALUE_FROM on EKS (the service resolves
   * them at start with its own role). Terraform handles ARNs only, never values.
   */
  secretReferences(entry: ServiceEntry, secrets: SecretLookup): Record<string, string> {
    return Object.fromEntries(
      this.secretBindings(entry).map((b) => [b.variable, `${secrets(b.secret).arn}:${b.key}::`]),
    );
  }
}
