import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import { stringify } from "yaml";
import {
  COLLECTOR_HEALTH_PORT,
  eksTraceCollectorConfig,
  OTLP_HTTP_PORT,
} from "../../dashboards/src/cloud-scrape";
import { policyDocument } from "../iam/policy-document";
import { type ServiceAccountIdentity, serviceAccountTrust } from "../iam/trust";
import { CONTAINER_USER } from "../workload/workload";
import { ADOT_COLLECTOR_IMAGE } from "./ecs-metrics-collector";
import { PUBLISH_TRACES } from "./xray";

/** Name of the EKS collector's Deployment, Service and service account. */
export const TRACE_COLLECTOR_NAME = "otel-collector";

/** Where the services in `namespace` send their spans (`OTEL_EXPORTER_OTLP_ENDPOINT`): the collector's Service. */
export function eksCollectorOtlpEndpoint(namespace: string): string {
  return `http://${TRACE_COLLECTOR_NAME}.${namespace}.svc.cluster.local:${OTLP_HTTP_PORT}`;
}

export interface TraceCollectorRoleProps {
  /** IAM role name, e.g. `blueprint-prod-otel-collector`. */
  readonly roleName: string;
  /** The cluster's OIDC provider and the collector's service account (`TRACE_COLLECTOR_NAME`). */
  readonly identity: ServiceAccountIdentity;
}

/** The role the EKS collector's pods assume through IRSA: put trace segments to X-Ray, nothing else. */
export class TraceCollectorRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: TraceCollectorRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, "Role", {
      name: props.roleName,
      description: "Sends the services' spans to X-Ray from the EKS trace collector",
      assumeRolePolicy: policyDocument(this, "Trust", [serviceAccountTrust(props.identity)]).json,
    });
    new IamRolePolicy(this, "Policy", {
      role: this.role.name,
      name: "publish-traces",
      policy: policyDocument(this, "PolicyDocument", [PUBLISH_TRACES]).json,
    });
  }
}

export interface EksTraceCollectorProps {
  /** Namespace of the services; the collector runs beside them. */
  readonly namespace: string;
  /** Region of X-Ray. */
  readonly region: string;
  /** CIDR of the VPC: the kubelet probes the collector's health port from its node's address. */
  readonly vpcCidr: string;
  /** `TraceCollectorRole`'s ARN. */
  readonly roleArn: string;
  /**
   * Collector image.
   * @default ADOT_COLLECTOR_IMAGE
   */
  readonly image?: string;
}

/**
 * Traces on EKS: one ADOT collector Deployment behind a ClusterIP Service in the services'
 * namespace (`eksCollectorOtlpEndpoint`), receiving OTLP/HTTP and sending to X-Ray with its IRSA
 * role, and the NetworkPolicies letting the namespace's pods reach it and nothing else in.
 */
export class EksTraceCollector extends Construct {
  readonly deployment: DeploymentV1;
  readonly service: ServiceV1;

  constructor(scope: Construct, id: string, props: EksTraceCollectorProps) {
    super(scope, id);
    const labels = { "app.kubernetes.io/name": TRACE_COLLECTOR_NAME };
    const metadata = { name: TRACE_COLLECTOR_NAME, namespace: props.namespace, labels };
    const account = new ServiceAccountV1(this, "ServiceAccount", {
      metadata: { ...metadata, annotations: { "eks.amazonaws.com/role-arn": props.roleArn } },
      // IRSA projects its own web identity token; the Kubernetes API token is not needed.
      automountServiceAccountToken: false,
    });
    const user = String(CONTAINER_USER);
    const probe = (path: string) => ({
      httpGet: { path, port: "health" },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
    this.deployment = new DeploymentV1(this, "Deployment", {
      metadata,
      waitForRollout: false,
      spec: {
        // One replica, as on ECS: a lost pod loses the spans of its restart only, never a request.
        replicas: "1",
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: account.metadata.name,
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: user,
              runAsGroup: user,
              seccompProfile: { type: "RuntimeDefault" },
            },
            container: [
              {
                name: "collector",
                image: props.image ?? ADOT_COLLECTOR_IMAGE,
                // As the services: a tag moved to a patched image is pulled, not served from the node's cache.
                imagePullPolicy: "Always",
                // The image's own config options are ignored when the whole configuration comes from this variable.
                env: [
                  {
                    name: "AOT_CONFIG_CONTENT",
                    value: stringify(eksTraceCollectorConfig(props.region), { lineWidth: 0 }),
                  },
                ],
                port: [
                  { name: "otlp-http", containerPort: OTLP_HTTP_PORT, protocol: "TCP" },
                  { name: "health", containerPort: COLLECTOR_HEALTH_PORT, protocol: "TCP" },
                ],
                resources: {
                  requests: { cpu: "100m", memory: "128Mi" },
                  limits: { cpu: "500m", memory: "256Mi" },
                },
                livenessProbe: { ...probe("/"), initialDelaySeconds: 10 },
                readinessProbe: probe("/"),
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: user,
                  runAsGroup: user,
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
              },
            ],
          },
        },
      },
    });
    this.service = new ServiceV1(this, "Service", {
      metadata,
      spec: {
        type: "ClusterIP",
        selector: labels,
        port: [{ name: "otlp-http", port: OTLP_HTTP_PORT, targetPort: "otlp-http", protocol: "TCP" }],
      },
    });
    const otlp = [{ port: String(OTLP_HTTP_PORT), protocol: "TCP" }];
    // The namespace denies all traffic by default: the services may send to the collector, which
    // admits them on the OTLP port and the probes on its health port (X-Ray is reached on 443 like
    // the other AWS APIs).
    new NetworkPolicyV1(this, "AllowSpansOut", {
      metadata: { name: `${TRACE_COLLECTOR_NAME}-egress`, namespace: props.namespace },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: { matchLabels: labels } }], ports: otlp }],
      },
    });
    new NetworkPolicyV1(this, "AllowSpansIn", {
      metadata: { name: `${TRACE_COLLECTOR_NAME}-ingress`, namespace: props.namespace },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ podSelector: {} }], ports: otlp },
          {
            from: [{ ipBlock: { cidr: props.vpcCidr } }],
            ports: [{ port: String(COLLECTOR_HEALTH_PORT), protocol: "TCP" }],
          },
        ],
      },
    });
  }
}
