import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import {
  NetworkPolicyV1,
  type NetworkPolicyV1SpecEgress,
} from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { Token } from "cdktf";
import type { Construct } from "constructs";
import { assertCpuTarget, assertMemoryTarget, assertPort, IPV4_CIDR } from "../workload/limits";
import { ServiceSet } from "../workload/service-constructs";
import { validateWorkloadNames } from "../workload/workload";
import { KubernetesService, type KubernetesServiceDefinition } from "./kubernetes-service";

export type { KubernetesServiceDefinition } from "./kubernetes-service";

/** Ports the pods reach inside the VPC besides the SMTP port: AWS interface endpoints, PostgreSQL, MSK with IAM auth. */
export const VPC_EGRESS_PORTS = [443, 5432, 9098] as const;

export interface KubernetesWorkloadsProps {
  /**
   * Namespace holding every service, enforcing the `restricted` Pod Security Standard.
   * @default "blueprint"
   */
  readonly namespace?: string;
  /** The services to run; at least one. */
  readonly services: readonly KubernetesServiceDefinition[];
  /**
   * CIDR of the VPC. NodePort traffic arrives from node IPs inside it, so the services admit it on
   * their container port; the pods may reach it on 443 (interface endpoints), 5432, 9098 and the SMTP port.
   */
  readonly vpcCidr: string;
  /**
   * CIDRs outside the VPC the pods may reach on 443 and the SMTP port: AWS APIs without an interface
   * endpoint and the SMTP relay, through NAT. Empty keeps the pods inside the VPC.
   * @default ["0.0.0.0/0"]
   */
  readonly externalEgressCidrs?: readonly string[];
  /**
   * Port of the SMTP relay services with an SMTP secret submit mail to.
   * @default 587
   */
  readonly smtpPort?: number;
  /**
   * Average CPU utilisation, in percent of the CPU request, that each HorizontalPodAutoscaler keeps.
   * @default 70
   */
  readonly cpuTargetPercent?: number;
  /**
   * Average memory utilisation, in percent of the memory request, that each HorizontalPodAutoscaler keeps.
   * @default 80
   */
  readonly memoryTargetPercent?: number;
}

/**
 * The services on EKS: a namespace under the `restricted` Pod Security Standard, default-deny
 * NetworkPolicies with explicit egress (DNS, the VPC's databases, brokers and endpoints, HTTPS and
 * SMTP out), and one `KubernetesService` per definition (see there for what each service gets).
 * The stack configures the Kubernetes provider.
 */
export class KubernetesWorkloads extends ServiceSet<KubernetesService> {
  readonly namespace: NamespaceV1;
  /** Name of the namespace, resolved through the namespace resource so everything waits for it. */
  readonly namespaceName: string;

  constructor(scope: Construct, id: string, props: KubernetesWorkloadsProps) {
    const namespace = props.namespace ?? "blueprint";
    const owner = `KubernetesWorkloads ${namespace}`;
    super(scope, id, owner);
    const cpuTargetPercent = props.cpuTargetPercent ?? 70;
    const memoryTargetPercent = props.memoryTargetPercent ?? 80;
    validateProps(owner, namespace, props);

    this.namespace = new NamespaceV1(this, "Namespace", {
      metadata: {
        name: namespace,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
    this.namespaceName = this.namespace.metadata.name;
    this.networkPolicies(props);

    for (const service of props.services) {
      this.addService(
        service.name,
        () =>
          new KubernetesService(this, {
            service,
            namespace: this.namespaceName,
            vpcCidr: props.vpcCidr,
            cpuTargetPercent,
            memoryTargetPercent,
            owner,
          }),
      );
    }
  }

  /** Deny everything in the namespace, then allow the egress every service needs. */
  private networkPolicies(props: KubernetesWorkloadsProps): void {
    const smtpPort = props.smtpPort ?? 587;
    const externalEgressCidrs = props.externalEgressCidrs ?? ["0.0.0.0/0"];
    new NetworkPolicyV1(this, "DefaultDeny", {
      metadata: { name: "default-deny", namespace: this.namespaceName },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    const tcp = (ports: readonly number[]) => ports.map((port) => ({ port: String(port), protocol: "TCP" }));
    const egress: NetworkPolicyV1SpecEgress[] = [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { port: "53", protocol: "UDP" },
          { port: "53", protocol: "TCP" },
        ],
      },
      { to: [{ ipBlock: { cidr: props.vpcCidr } }], ports: tcp([...VPC_EGRESS_PORTS, smtpPort]) },
    ];
    if (externalEgressCidrs.length > 0) {
      egress.push({
        to: externalEgressCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: tcp([443, smtpPort]),
      });
    }
    new NetworkPolicyV1(this, "AllowEgress", {
      metadata: { name: "allow-egress", namespace: this.namespaceName },
      spec: { podSelector: {}, policyTypes: ["Egress"], egress },
    });
  }
}

function validateProps(owner: string, namespace: string, props: KubernetesWorkloadsProps): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new Error(
      `${owner}: namespace must be a DNS label (lower-case letters, digits and hyphens, at most 63), got "${namespace}"`,
    );
  }
  if (props.services.length === 0) throw new Error(`${owner}: services must name at least one service`);
  for (const [key, cidrs] of [
    ["vpcCidr", [props.vpcCidr]],
    ["externalEgressCidrs", props.externalEgressCidrs ?? []],
  ] as const) {
    const invalid = cidrs.find((c) => !Token.isUnresolved(c) && !IPV4_CIDR.test(c));
    if (invalid !== undefined)
      throw new Error(`${owner}: ${key} must hold IPv4 CIDRs such as 10.30.0.0/16, got "${invalid}"`);
  }
  assertPort(owner, "smtpPort", props.smtpPort ?? 587);
  assertCpuTarget(owner, props.cpuTargetPercent ?? 70);
  assertMemoryTarget(owner, props.memoryTargetPercent ?? 80);
  validateWorkloadNames(owner, props.services);
  const nodePorts = new Set<number>();
  for (const { nodePort } of props.services) {
    if (nodePorts.has(nodePort)) throw new Error(`${owner}: nodePort ${nodePort} is used by two services`);
    nodePorts.add(nodePort);
  }
}
