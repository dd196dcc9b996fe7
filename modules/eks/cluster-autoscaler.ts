import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";
import { ClusterRoleV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-v1";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import { RoleV1 } from "@cdktf/provider-kubernetes/lib/role-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Construct } from "constructs";
import { CLUSTER_AUTOSCALER_SERVICE_ACCOUNT } from "./eks-cluster";

export interface ClusterAutoscalerProps {
  readonly clusterName: string;
  readonly region: string;
  /** Kubernetes minor version of the cluster, e.g. `1.33`; the autoscaler's release must match it. */
  readonly kubernetesVersion: string;
  /** The IRSA role from `EksCluster.clusterAutoscalerRoleArn`. */
  readonly roleArn: string;
}

const read = ["get", "list", "watch"];

/**
 * The Kubernetes cluster autoscaler for AWS: adds nodes to the cluster's managed node groups
 * (found by their `k8s.io/cluster-autoscaler/<cluster>` tag) while pods are Pending for lack of
 * room, up to the node group's maximum, and removes nodes that stay underused.
 */
export class ClusterAutoscaler extends Construct {
  readonly deployment: DeploymentV1;

  constructor(scope: Construct, id: string, props: ClusterAutoscalerProps) {
    super(scope, id);
    if (!/^1\.\d{2}$/.test(props.kubernetesVersion)) {
      throw new Error(
        `ClusterAutoscaler ${props.clusterName}: kubernetesVersion must be a minor version such as 1.33, got "${props.kubernetesVersion}"`,
      );
    }
    const { namespace, name } = CLUSTER_AUTOSCALER_SERVICE_ACCOUNT;
    const labels = { "app.kubernetes.io/name": name };
    const account = new ServiceAccountV1(this, "ServiceAccount", {
      metadata: { name, namespace, labels, annotations: { "eks.amazonaws.com/role-arn": props.roleArn } },
    });
    const clusterRole = new ClusterRoleV1(this, "ClusterRole", {
      metadata: { name, labels },
      rule: [
        { apiGroups: [""], resources: ["events", "endpoints"], verbs: ["create", "patch"] },
        { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
        { apiGroups: [""], resources: ["pods/status"], verbs: ["update"] },
        { apiGroups: [""], resources: ["endpoints"], resourceNames: [name], verbs: ["get", "update"] },
        { apiGroups: [""], resources: ["nodes"], verbs: [...read, "update"] },
        {
          apiGroups: [""],
          resources: [
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
          ],
          verbs: read,
        },
        { apiGroups: ["apps"], resources: ["statefulsets", "replicasets", "daemonsets"], verbs: read },
        { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: read },
        {
          apiGroups: ["storage.k8s.io"],
          resources: [
            "storageclasses",
            "csinodes",
            "csidrivers",
            "csistoragecapacities",
            "volumeattachments",
          ],
          verbs: read,
        },
        { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: read },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          resourceNames: [name],
          verbs: ["get", "update"],
        },
        {
          apiGroups: ["resource.k8s.io"],
          resources: ["resourceclaims", "resourceslices", "deviceclasses"],
          verbs: read,
        },
      ],
    });
    const subject = [{ kind: "ServiceAccount", name: account.metadata.name, namespace }];
    new ClusterRoleBindingV1(this, "ClusterRoleBinding", {
      metadata: { name, labels },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: clusterRole.metadata.name,
      },
      subject,
    });
    const role = new RoleV1(this, "Role", {
      metadata: { name, namespace, labels },
      rule: [
        { apiGroups: [""], resources: ["configmaps"], verbs: ["create", "list", "watch"] },
        {
          apiGroups: [""],
          resources: ["configmaps"],
          resourceNames: ["cluster-autoscaler-status"],
          verbs: ["delete", "get", "update", "watch"],
        },
      ],
    });
    new RoleBindingV1(this, "RoleBinding", {
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subject,
    });
    this.deployment = new DeploymentV1(this, "Deployment", {
      metadata: { name, namespace, labels },
      spec: {
        replicas: "1",
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: account.metadata.name,
            priorityClassName: "system-cluster-critical",
            securityContext: {
              runAsNonRoot: true,
              runAsUser: "65534",
              fsGroup: "65534",
              seccompProfile: { type: "RuntimeDefault" },
            },
            container: [
              {
                name,
                image: `registry.k8s.io/autoscaling/cluster-autoscaler:v${props.kubernetesVersion}.0`,
                command: [
                  "./cluster-autoscaler",
                  "--cloud-provider=aws",
                  `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${props.clusterName}`,
                  "--expander=least-waste",
                  "--balance-similar-node-groups",
                  "--skip-nodes-with-system-pods=false",
                  "--skip-nodes-with-local-storage=false",
                ],
                imagePullPolicy: "Always",
                env: [{ name: "AWS_REGION", value: props.region }],
                // The autoscaler serves its health on 8085; it fails once its loop stalls.
                livenessProbe: { httpGet: { path: "/health-check", port: "8085" }, periodSeconds: 30 },
                readinessProbe: { httpGet: { path: "/health-check", port: "8085" }, periodSeconds: 10 },
                resources: {
                  requests: { cpu: "100m", memory: "300Mi" },
                  limits: { cpu: "200m", memory: "600Mi" },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
              },
            ],
          },
        },
      },
    });
  }
}
