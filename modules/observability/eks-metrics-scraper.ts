import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { PrometheusScraper } from "@cdktf/provider-aws/lib/prometheus-scraper";
import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import { RoleV1 } from "@cdktf/provider-kubernetes/lib/role-v1";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { eksScrapeConfig } from "../../dashboards/src/cloud-scrape";

/** Kubernetes user name the scraper's access entry maps to; the RBAC below grants it discovery. */
export const SCRAPER_USER = "aps-collector-user";

export interface EksMetricsScraperProps {
  /** Environment name: the `env` label of every scraped series. */
  readonly environment: string;
  /** Prefix of resource names, e.g. `blueprint-prod`; the scraper's alias. */
  readonly namePrefix: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  /** Subnets the scraper's network interfaces live in (the nodes' private subnets, two AZs or more). */
  readonly subnetIds: readonly string[];
  /** Security groups of the scraper's interfaces; the pods' network policy must admit them. */
  readonly securityGroupIds: readonly string[];
  /** AMP workspace ARN (`Observability.workspaceArn`). */
  readonly workspaceArn: string;
  /**
   * Namespace of the service pods.
   * @default "blueprint"
   */
  readonly namespace?: string;
}

/**
 * Metrics collection on EKS: an AMP managed scraper (agentless, run by AWS in the cluster's
 * subnets) that discovers the service pods through the Kubernetes API and scrapes their `http`
 * port, with an EKS access entry mapping its role to `aps-collector-user`. The workloads stack
 * adds `EksScraperRbac` so that user may discover the pods.
 */
export class EksMetricsScraper extends Construct {
  readonly scraper: PrometheusScraper;
  readonly accessEntry: EksAccessEntry;

  constructor(scope: Construct, id: string, props: EksMetricsScraperProps) {
    super(scope, id);
    const namespace = props.namespace ?? "blueprint";
    const owner = `EksMetricsScraper ${props.clusterName}`;
    if (props.subnetIds.length < 2) {
      throw new Error(
        `${owner}: subnetIds must span at least 2 AZs, got ${props.subnetIds.length} subnet(s)`,
      );
    }
    if (props.securityGroupIds.length === 0) {
      throw new Error(`${owner}: securityGroupIds must name the group the pods admit the scraper from`);
    }
    this.scraper = new PrometheusScraper(this, "Scraper", {
      alias: props.namePrefix,
      scrapeConfiguration: stringify(eksScrapeConfig(props.environment, namespace), { lineWidth: 0 }),
      source: [
        {
          eks: [
            {
              clusterArn: props.clusterArn,
              subnetIds: [...props.subnetIds],
              securityGroupIds: [...props.securityGroupIds],
            },
          ],
        },
      ],
      destination: [{ amp: [{ workspaceArn: props.workspaceArn }] }],
    });
    // Access entries take the role ARN without its service-role path.
    this.accessEntry = new EksAccessEntry(this, "AccessEntry", {
      clusterName: props.clusterName,
      principalArn: Fn.replace(
        this.scraper.roleArn,
        "role/aws-service-role/scraper.aps.amazonaws.com/",
        "role/",
      ),
      userName: SCRAPER_USER,
      type: "STANDARD",
    });
  }
}

export interface EksScraperRbacProps {
  /**
   * Namespace of the service pods.
   * @default "blueprint"
   */
  readonly namespace?: string;
}

/**
 * Kubernetes RBAC for the managed scraper (Kubernetes provider, workloads stack): read-only
 * discovery of pods, services and endpoints in the services' namespace, nothing cluster-wide.
 */
export class EksScraperRbac extends Construct {
  readonly role: RoleV1;

  constructor(scope: Construct, id: string, props: EksScraperRbacProps = {}) {
    super(scope, id);
    const namespace = props.namespace ?? "blueprint";
    const metadata = { name: "aps-collector", namespace };
    this.role = new RoleV1(this, "Role", {
      metadata,
      rule: [
        { apiGroups: [""], resources: ["pods", "services", "endpoints"], verbs: ["get", "list", "watch"] },
      ],
    });
    new RoleBindingV1(this, "RoleBinding", {
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.role.metadata.name },
      subject: [{ kind: "User", name: SCRAPER_USER, apiGroup: "rbac.authorization.k8s.io" }],
    });
  }
}
