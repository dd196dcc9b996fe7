import { AutoscalingAttachment } from "@cdktf/provider-aws/lib/autoscaling-attachment";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";
import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import { EksCluster as EksClusterResource } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, type ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { policyDocument } from "../iam/policy-document";
import { serviceAccountTrust } from "../iam/trust";
import { assertLogRetention, assertNodePort, assertTwoZones, IPV4_CIDR } from "../workload/limits";
import { assertServiceName, pascalCase } from "../workload/workload";

/** Every control-plane log type EKS can ship to CloudWatch. */
export const CONTROL_PLANE_LOG_TYPES = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;

/** EKS managed add-ons this construct can install. */
export type EksAddonName =
  | "vpc-cni"
  | "coredns"
  | "kube-proxy"
  | "metrics-server"
  | "aws-ebs-csi-driver"
  | "amazon-cloudwatch-observability";

/** Log groups the CloudWatch observability add-on writes pod, node and performance logs to. */
export const CONTAINER_INSIGHTS_LOG_TYPES = ["application", "dataplane", "host", "performance"] as const;

/** Where the cluster autoscaler runs; its IRSA role trusts exactly this service account. */
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = {
  namespace: "kube-system",
  name: "cluster-autoscaler",
} as const;

/** EKS access policies a principal can be granted. */
export type EksAccessPolicyName =
  | "AmazonEKSClusterAdminPolicy"
  | "AmazonEKSAdminPolicy"
  | "AmazonEKSEditPolicy"
  | "AmazonEKSViewPolicy"
  | "AmazonEKSAdminViewPolicy";

/** Kubernetes access for one IAM role through an EKS access entry. */
export interface EksAccess {
  /** ARN of the IAM role granted access, e.g. the GitHub apply or deploy role. */
  readonly principalArn: string;
  /**
   * EKS access policy: `AmazonEKSClusterAdminPolicy` for the role that applies the workloads stack,
   * `AmazonEKSEditPolicy` for the deploy role, `AmazonEKSAdminViewPolicy` for plan and drift.
   */
  readonly policy: EksAccessPolicyName;
  /**
   * Namespaces the policy applies in.
   * @default the whole cluster
   */
  readonly namespaces?: readonly string[];
}

/** An ALB target group that sends a service's traffic to its NodePort on every node. */
export interface EksLoadBalancerTarget {
  /** Service name; names the attachment and the security group rule. */
  readonly name: string;
  /** ARN of the ALB target group (target type `instance`, port = `nodePort`). */
  readonly targetGroupArn: string;
  /** NodePort of the service's Kubernetes Service (30000-32767); the workloads stack uses the same value. */
  readonly nodePort: number;
}

export interface EksClusterProps {
  /** Cluster name, e.g. `blueprint-prod`; prefixes role, launch template and log group names. */
  readonly clusterName: string;
  /** Kubernetes minor version, e.g. `1.33`. */
  readonly kubernetesVersion: string;
  /** Private subnets (at least two AZs) for the control-plane network interfaces and the nodes. */
  readonly privateSubnetIds: readonly string[];
  /** KMS key that envelope-encrypts Kubernetes Secrets in etcd. */
  readonly secretsKmsKeyArn: string;
  /** Retention of the control-plane log group; a CloudWatch Logs retention value. */
  readonly logRetentionDays: number;
  /** KMS key encrypting the control-plane log group; its policy must admit the `logs` service principal. */
  readonly logKmsKeyArn: string;
  /**
   * CIDRs allowed to reach the public API endpoint. Empty keeps the endpoint private: only the VPC
   * (and what is peered or connected to it) reaches the API. `0.0.0.0/0` is rejected.
   * @default [] (private endpoint only)
   */
  readonly publicAccessCidrs?: readonly string[];
  /**
   * Kubernetes access by IAM role, keyed by a stable PascalCase name (`GithubApply`) that names the
   * access entry's constructs. Nobody else has access: the cluster creator gets no implicit admin.
   * @default none
   */
  readonly access?: Readonly<Record<string, EksAccess>>;
  /** Instance types of the managed node group, all of one architecture (Graviton `m7g` or x86 `m7i`, not both). */
  readonly nodeInstanceTypes: readonly string[];
  /** Fewest nodes; at least 1. */
  readonly nodeMinSize: number;
  /** Most nodes; at least `nodeMinSize`. */
  readonly nodeMaxSize: number;
  /** Nodes at creation and after each apply; between min and max. */
  readonly nodeDesiredSize: number;
  /**
   * On-demand nodes, or Spot nodes at a discount that AWS may reclaim with two minutes' notice.
   * @default "ON_DEMAND"
   */
  readonly nodeCapacityType?: "ON_DEMAND" | "SPOT";
  /**
   * Size of each node's encrypted gp3 root volume, GiB.
   * @default 50
   */
  readonly nodeRootVolumeGiB?: number;
  /**
   * Security groups attached to the nodes besides the EKS cluster security group, e.g. the platform's
   * services group so the database and brokers admit the pods.
   * @default none
   */
  readonly nodeSecurityGroupIds?: readonly string[];
  /**
   * IMDSv2 response hop limit. 1 keeps the node role's credentials away from pods (a container
   * adds a network hop, so only host-network pods such as the VPC CNI reach the metadata service);
   * pods get AWS access through IRSA instead. 2 lets pods read instance metadata, which some
   * controllers need when not configured explicitly.
   * @default 1
   */
  readonly imdsHopLimit?: 1 | 2;
  /**
   * EKS managed add-ons to install. The VPC CNI add-on is configured to enforce NetworkPolicies
   * (without it the workloads' NetworkPolicies are not enforced); metrics-server feeds the
   * HorizontalPodAutoscalers (without it they never scale).
   * `amazon-cloudwatch-observability` ships every pod's stdout to CloudWatch Logs (Fluent Bit) into
   * pre-created, encrypted log groups with the cluster's retention.
   * @default ["vpc-cni", "coredns", "kube-proxy", "metrics-server", "amazon-cloudwatch-observability"]
   */
  readonly addons?: readonly EksAddonName[];
  /**
   * `cluster-autoscaler`: an IRSA role that may resize this cluster's node groups (the workloads
   * layer runs the autoscaler with it), and Terraform leaves the node group's desired size to it.
   * @default none: the node group stays at nodeDesiredSize
   */
  readonly nodeAutoscaler?: "cluster-autoscaler";
  /**
   * ALB security group and target groups that reach the services through their NodePorts.
   * @default no load balancer attachment
   */
  readonly loadBalancer?: {
    /** Security group of the ALB; the nodes admit it on each target's NodePort. */
    readonly securityGroupId: string;
    readonly targets: readonly EksLoadBalancerTarget[];
  };
  /**
   * Refuse to delete the cluster until this is turned off.
   * @default false
   */
  readonly deletionProtection?: boolean;
}

const ACCESS_POLICY_ARN_PREFIX = "arn:aws:eks::aws:cluster-access-policy/";
const MANAGED_POLICY_ARN_PREFIX = "arn:aws:iam::aws:policy/";
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const DEFAULT_ADDONS: readonly EksAddonName[] = [
  "vpc-cni",
  "coredns",
  "kube-proxy",
  "metrics-server",
  "amazon-cloudwatch-observability",
];

/** Graviton families end their generation with `g` (m7g, c7gn, r8gd, t4g) or are the first one, a1. */
function architectureOf(instanceType: string): "ARM64" | "X86_64" {
  const family = instanceType.split(".")[0] ?? "";
  return /^(a1|[a-z]+\d+g[a-z]*)$/.test(family) ? "ARM64" : "X86_64";
}

/**
 * An EKS cluster with a private (or CIDR-restricted) API endpoint, KMS-encrypted Secrets, every
 * control-plane log type in an encrypted log group, access entries instead of the aws-auth
 * ConfigMap, a managed node group whose launch template requires IMDSv2, an OIDC provider for IAM
 * roles for service accounts, optional managed add-ons, and the ALB target group attachments.
 *
 * The ALB reaches the pods through NodePort Services on fixed ports: each target group (type
 * `instance`) is attached to the node group's Auto Scaling group, so every node registers on every
 * service's NodePort and kube-proxy forwards to a ready pod. Everything stays in Terraform, with no
 * in-cluster controller to install, upgrade, grant IAM rights to or keep running. The upgrade path
 * is the AWS Load Balancer Controller with TargetGroupBinding (target type `ip`, straight to the
 * pods, one hop less), once running a controller is acceptable.
 */
export class EksCluster extends Construct {
  readonly cluster: EksClusterResource;
  /**
   * Name of the EKS cluster, as given: a plain value, so a stack that reads it from another layer needs
   * no new remote state output (one the layer's current state lacks fails that stack's plan).
   */
  readonly clusterName: string;
  /** HTTPS endpoint of the Kubernetes API. */
  readonly endpoint: string;
  /** Base64 PEM of the cluster's certificate authority, for the Kubernetes provider. */
  readonly certificateAuthorityData: string;
  readonly oidcProvider: IamOpenidConnectProvider;
  readonly oidcProviderArn: string;
  /** Issuer host and path without `https://`, the prefix of IRSA trust condition keys. */
  readonly oidcIssuer: string;
  readonly nodeGroup: EksNodeGroup;
  readonly launchTemplate: LaunchTemplate;
  /** Name of the node group's Auto Scaling group, where the target groups are attached. */
  readonly autoscalingGroupName: string;
  /** The EKS cluster security group; every node carries it, the ALB reaches the NodePorts through it. */
  readonly nodeSecurityGroupId: string;
  readonly clusterRole: IamRole;
  readonly nodeRole: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  /** Installed add-ons by name. */
  readonly addons: Readonly<Partial<Record<EksAddonName, EksAddon>>>;
  /** IRSA role of the cluster autoscaler, when `nodeAutoscaler` asks for one. */
  readonly clusterAutoscalerRoleArn?: string;
  private readonly owner: string;

  constructor(scope: Construct, id: string, props: EksClusterProps) {
    super(scope, id);
    this.clusterName = props.clusterName;
    this.owner = `EksCluster ${props.clusterName}`;
    const architecture = validateProps(this.owner, props);

    // Pre-created so EKS writes into an encrypted group with retention instead of creating its own.
    this.logGroup = new CloudwatchLogGroup(this, "ControlPlaneLogGroup", {
      name: `/aws/eks/${props.clusterName}/cluster`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });
    const { role: clusterRole, policies: clusterPolicies } = this.controlPlaneRole(props);
    this.clusterRole = clusterRole;
    this.cluster = this.controlPlane(props, clusterPolicies);
    this.endpoint = this.cluster.endpoint;
    this.certificateAuthorityData = this.cluster.certificateAuthority.get(0).data;
    this.nodeSecurityGroupId = this.cluster.vpcConfig.clusterSecurityGroupId;
    for (const [name, entry] of Object.entries(props.access ?? {})) this.grantAccess(name, entry);

    // Thumbprints are optional since AWS provider 5.81: IAM trusts the EKS issuer through its own CA library.
    this.oidcProvider = new IamOpenidConnectProvider(this, "OidcProvider", {
      url: this.cluster.identity.get(0).oidc.get(0).issuer,
      clientIdList: ["sts.amazonaws.com"],
    });
    this.oidcProviderArn = this.oidcProvider.arn;
    this.oidcIssuer = Fn.replace(this.oidcProvider.url, "https://", "");

    const { role: nodeRole, policies: nodePolicies } = this.workerRole(props);
    this.nodeRole = nodeRole;
    this.launchTemplate = this.nodeLaunchTemplate(props);
    const addonNames = props.addons ?? DEFAULT_ADDONS;
    const addons: Partial<Record<EksAddonName, EksAddon>> = {};
    // Networking add-ons are DaemonSets and go in before the nodes, so the first nodes already enforce NetworkPolicies.
    if (addonNames.includes("vpc-cni")) {
      addons["vpc-cni"] = this.addon("vpc-cni", {
        configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
      });
    }
    if (addonNames.includes("kube-proxy")) addons["kube-proxy"] = this.addon("kube-proxy");
    this.nodeGroup = this.managedNodeGroup(props, architecture, [...nodePolicies, ...Object.values(addons)]);
    this.autoscalingGroupName = this.nodeGroup.resources.get(0).autoscalingGroups.get(0).name;
    // CoreDNS, metrics-server and the EBS CSI controller are Deployments: they only become healthy once nodes exist.
    for (const name of ["coredns", "metrics-server"] as const) {
      if (addonNames.includes(name)) addons[name] = this.addon(name, { dependsOn: [this.nodeGroup] });
    }
    if (addonNames.includes("aws-ebs-csi-driver")) addons["aws-ebs-csi-driver"] = this.ebsCsiAddon(props);
    if (addonNames.includes("amazon-cloudwatch-observability")) {
      addons["amazon-cloudwatch-observability"] = this.observabilityAddon(props);
    }
    this.addons = addons;
    if (props.nodeAutoscaler === "cluster-autoscaler")
      this.clusterAutoscalerRoleArn = this.autoscalerRole(props);

    if (props.loadBalancer) {
      const { securityGroupId, targets } = props.loadBalancer;
      for (const target of targets) this.attachTarget(target, securityGroupId);
    }
  }

  /**
   * Kubernetes access for one IAM role through an access entry; `name` (PascalCase, stable) names
   * its constructs. Roles created after the cluster, such as the deploy role, are granted here.
   */
  grantAccess(name: string, entry: EksAccess): void {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
      throw new Error(
        `${this.owner}: access keys name constructs and must be PascalCase such as "GithubApply", got "${name}"`,
      );
    }
    if (!Token.isUnresolved(entry.principalArn) && !ROLE_ARN.test(entry.principalArn)) {
      throw new Error(
        `${this.owner}: access ${name} principalArn must be an IAM role ARN, got "${entry.principalArn}"`,
      );
    }
    if (entry.namespaces !== undefined && entry.namespaces.length === 0) {
      throw new Error(
        `${this.owner}: access ${name} namespaces must name at least one namespace, or be left out for the whole cluster`,
      );
    }
    const accessEntry = new EksAccessEntry(this, `${name}AccessEntry`, {
      clusterName: this.cluster.name,
      principalArn: entry.principalArn,
      type: "STANDARD",
    });
    new EksAccessPolicyAssociation(this, `${name}AccessPolicy`, {
      clusterName: this.cluster.name,
      principalArn: accessEntry.principalArn,
      policyArn: `${ACCESS_POLICY_ARN_PREFIX}${entry.policy}`,
      accessScope: entry.namespaces
        ? { type: "namespace", namespaces: [...entry.namespaces] }
        : { type: "cluster" },
    });
  }

  private controlPlaneRole(props: EksClusterProps) {
    const role = new IamRole(this, "ClusterRole", {
      name: `${props.clusterName}-cluster`,
      description: `EKS control plane of ${props.clusterName}`,
      assumeRolePolicy: policyDocument(this, "ClusterTrust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole", "sts:TagSession"],
          principals: [{ type: "Service", identifiers: ["eks.amazonaws.com"] }],
        },
      ]).json,
    });
    const managed = new IamRolePolicyAttachment(this, "ClusterPolicy", {
      role: role.name,
      policyArn: `${MANAGED_POLICY_ARN_PREFIX}AmazonEKSClusterPolicy`,
    });
    const secretsEncryption = new IamRolePolicy(this, "ClusterSecretsEncryption", {
      name: "secrets-encryption",
      role: role.id,
      policy: policyDocument(this, "ClusterSecretsEncryptionDocument", [
        {
          sid: "EnvelopeEncryptSecrets",
          effect: "Allow",
          actions: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
          resources: [props.secretsKmsKeyArn],
        },
      ]).json,
    });
    return { role, policies: [managed, secretsEncryption] };
  }

  private controlPlane(props: EksClusterProps, rolePolicies: ITerraformDependable[]): EksClusterResource {
    const publicAccessCidrs = props.publicAccessCidrs ?? [];
    return new EksClusterResource(this, "Cluster", {
      name: props.clusterName,
      version: props.kubernetesVersion,
      roleArn: this.clusterRole.arn,
      vpcConfig: {
        subnetIds: [...props.privateSubnetIds],
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccessCidrs.length > 0,
        publicAccessCidrs: publicAccessCidrs.length > 0 ? [...publicAccessCidrs] : undefined,
      },
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: props.secretsKmsKeyArn } },
      enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      deletionProtection: props.deletionProtection ?? false,
      dependsOn: [this.logGroup, ...rolePolicies],
      // Terraform stops a destroy before AWS's deletion protection would, with a clearer message.
      lifecycle: { preventDestroy: props.deletionProtection ?? false },
    });
  }

  private workerRole(props: EksClusterProps) {
    const role = new IamRole(this, "NodeRole", {
      name: `${props.clusterName}-node`,
      description: `Nodes of ${props.clusterName}: join the cluster, pull images, manage pod networking`,
      assumeRolePolicy: policyDocument(this, "NodeTrust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }],
        },
      ]).json,
    });
    const policies = (
      [
        ["NodeWorkerPolicy", "AmazonEKSWorkerNodePolicy"],
        ["NodeRegistryPolicy", "AmazonEC2ContainerRegistryPullOnly"],
        ["NodeCniPolicy", "AmazonEKS_CNI_Policy"],
      ] as const
    ).map(
      ([policyId, policy]) =>
        new IamRolePolicyAttachment(this, policyId, {
          role: role.name,
          policyArn: `${MANAGED_POLICY_ARN_PREFIX}${policy}`,
        }),
    );
    return { role, policies };
  }

  private nodeLaunchTemplate(props: EksClusterProps): LaunchTemplate {
    return new LaunchTemplate(this, "NodeLaunchTemplate", {
      name: `${props.clusterName}-nodes`,
      description: `Nodes of ${props.clusterName}: IMDSv2 only, encrypted gp3 root volume`,
      updateDefaultVersion: true,
      // Setting groups here replaces the ones EKS would add, so the cluster security group is named explicitly.
      vpcSecurityGroupIds: [this.nodeSecurityGroupId, ...(props.nodeSecurityGroupIds ?? [])],
      // IMDSv2 only: a session token defeats metadata theft through SSRF; the hop limit is explained on imdsHopLimit.
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: props.imdsHopLimit ?? 1,
        instanceMetadataTags: "disabled",
      },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: props.nodeRootVolumeGiB ?? 50,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      tagSpecifications: [
        { resourceType: "instance", tags: { Name: `${props.clusterName}-node` } },
        { resourceType: "volume", tags: { Name: `${props.clusterName}-node` } },
      ],
    });
  }

  private managedNodeGroup(
    props: EksClusterProps,
    architecture: "ARM64" | "X86_64",
    dependsOn: ITerraformDependable[],
  ): EksNodeGroup {
    return new EksNodeGroup(this, "NodeGroup", {
      clusterName: this.cluster.name,
      nodeGroupNamePrefix: `${props.clusterName}-`,
      nodeRoleArn: this.nodeRole.arn,
      subnetIds: [...props.privateSubnetIds],
      instanceTypes: [...props.nodeInstanceTypes],
      amiType: architecture === "ARM64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
      capacityType: props.nodeCapacityType ?? "ON_DEMAND",
      launchTemplate: {
        id: this.launchTemplate.id,
        version: Token.asString(this.launchTemplate.latestVersion),
      },
      scalingConfig: {
        minSize: props.nodeMinSize,
        maxSize: props.nodeMaxSize,
        desiredSize: props.nodeDesiredSize,
      },
      updateConfig: { maxUnavailable: 1 },
      dependsOn,
      // A replaced node group (new instance types) comes up before the old one drains; with an
      // autoscaler the desired size is its to change, and an apply must not undo a scale-out.
      lifecycle: {
        createBeforeDestroy: true,
        ignoreChanges: props.nodeAutoscaler ? ["scaling_config[0].desired_size"] : undefined,
      },
    });
  }

  private addon(
    name: EksAddonName,
    extra: { configurationValues?: string; serviceAccountRoleArn?: string; dependsOn?: EksNodeGroup[] } = {},
  ): EksAddon {
    return new EksAddon(this, `${pascalCase(name)}Addon`, {
      clusterName: this.cluster.name,
      addonName: name,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      ...extra,
    });
  }

  private ebsCsiAddon(props: EksClusterProps): EksAddon {
    const role = new IamRole(this, "EbsCsiRole", {
      name: `${props.clusterName}-ebs-csi`,
      description: `EBS CSI controller of ${props.clusterName}, through IRSA`,
      assumeRolePolicy: policyDocument(this, "EbsCsiTrust", [
        serviceAccountTrust({
          oidcProviderArn: this.oidcProviderArn,
          oidcIssuer: this.oidcIssuer,
          namespace: "kube-system",
          serviceAccount: "ebs-csi-controller-sa",
        }),
      ]).json,
    });
    new IamRolePolicyAttachment(this, "EbsCsiPolicy", {
      role: role.name,
      policyArn: `${MANAGED_POLICY_ARN_PREFIX}service-role/AmazonEBSCSIDriverPolicy`,
    });
    return this.addon("aws-ebs-csi-driver", { serviceAccountRoleArn: role.arn, dependsOn: [this.nodeGroup] });
  }

  /**
   * Fluent Bit and the CloudWatch agent (IRSA role), writing into log groups created here first:
   * the add-on would otherwise create them without retention or encryption.
   */
  private observabilityAddon(props: EksClusterProps): EksAddon {
    const logGroups = CONTAINER_INSIGHTS_LOG_TYPES.map(
      (type) =>
        new CloudwatchLogGroup(this, `ContainerInsights${pascalCase(type)}LogGroup`, {
          name: `/aws/containerinsights/${props.clusterName}/${type}`,
          retentionInDays: props.logRetentionDays,
          kmsKeyId: props.logKmsKeyArn,
        }),
    );
    const role = new IamRole(this, "CloudWatchAgentRole", {
      name: `${props.clusterName}-cloudwatch-agent`,
      description: `CloudWatch agent and Fluent Bit of ${props.clusterName}, through IRSA`,
      assumeRolePolicy: policyDocument(this, "CloudWatchAgentTrust", [
        serviceAccountTrust({
          oidcProviderArn: this.oidcProviderArn,
          oidcIssuer: this.oidcIssuer,
          namespace: "amazon-cloudwatch",
          serviceAccount: "cloudwatch-agent",
        }),
      ]).json,
    });
    const policy = new IamRolePolicyAttachment(this, "CloudWatchAgentPolicy", {
      role: role.name,
      policyArn: `${MANAGED_POLICY_ARN_PREFIX}CloudWatchAgentServerPolicy`,
    });
    return new EksAddon(this, "AmazonCloudwatchObservabilityAddon", {
      clusterName: this.cluster.name,
      addonName: "amazon-cloudwatch-observability",
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      serviceAccountRoleArn: role.arn,
      dependsOn: [this.nodeGroup, policy, ...logGroups],
    });
  }

  /** May resize only Auto Scaling groups tagged as this cluster's (managed node groups are). */
  private autoscalerRole(props: EksClusterProps): string {
    // Region and account of the cluster, read from its ARN (arn:aws:eks:<region>:<account>:cluster/<name>).
    const arnPart = (index: number) => Fn.element(Fn.split(":", this.cluster.arn), index);
    const region = arnPart(3);
    const account = arnPart(4);
    const role = new IamRole(this, "ClusterAutoscalerRole", {
      name: `${props.clusterName}-cluster-autoscaler`,
      description: `Cluster autoscaler of ${props.clusterName}, through IRSA`,
      assumeRolePolicy: policyDocument(this, "ClusterAutoscalerTrust", [
        serviceAccountTrust({
          oidcProviderArn: this.oidcProviderArn,
          oidcIssuer: this.oidcIssuer,
          namespace: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.namespace,
          serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.name,
        }),
      ]).json,
    });
    new IamRolePolicy(this, "ClusterAutoscalerPolicy", {
      role: role.name,
      name: "resize-node-groups",
      policy: policyDocument(this, "ClusterAutoscalerPolicyDocument", [
        {
          sid: "ResizeOwnNodeGroups",
          effect: "Allow",
          actions: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
          resources: [`arn:aws:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/*`],
          condition: [
            {
              test: "StringEquals",
              variable: `aws:ResourceTag/k8s.io/cluster-autoscaler/${props.clusterName}`,
              values: ["owned"],
            },
          ],
        },
        // Describe calls have no resource-level permissions: "*" is the only valid resource.
        {
          sid: "DescribeCapacity",
          effect: "Allow",
          actions: [
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations",
            "autoscaling:DescribeScalingActivities",
            "autoscaling:DescribeTags",
            "ec2:DescribeImages",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:GetInstanceTypesFromInstanceRequirements",
          ],
          resources: ["*"],
        },
        {
          sid: "DescribeOwnNodeGroups",
          effect: "Allow",
          actions: ["eks:DescribeNodegroup"],
          resources: [`${Fn.replace(this.cluster.arn, ":cluster/", ":nodegroup/")}/*`],
        },
      ]).json,
    });
    return role.arn;
  }

  /** Every node registers in the target group on the service's NodePort, admitted from the ALB. */
  private attachTarget(target: EksLoadBalancerTarget, loadBalancerSecurityGroupId: string): void {
    const targetId = pascalCase(target.name);
    new AutoscalingAttachment(this, `${targetId}TargetGroupAttachment`, {
      autoscalingGroupName: this.autoscalingGroupName,
      lbTargetGroupArn: target.targetGroupArn,
    });
    new VpcSecurityGroupIngressRule(this, `${targetId}NodePortFromAlb`, {
      securityGroupId: this.nodeSecurityGroupId,
      referencedSecurityGroupId: loadBalancerSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: target.nodePort,
      toPort: target.nodePort,
      description: `ALB to the ${target.name} NodePort`,
    });
  }
}

/** Checks every prop that needs no resource; returns the node group's one architecture. */
function validateProps(owner: string, props: EksClusterProps): "ARM64" | "X86_64" {
  if (!/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(props.clusterName)) {
    throw new Error(
      `${owner}: clusterName must start with a letter or digit and hold letters, digits, hyphens and underscores, got "${props.clusterName}"`,
    );
  }
  if (!/^1\.\d{2}$/.test(props.kubernetesVersion)) {
    throw new Error(
      `${owner}: kubernetesVersion must be a minor version such as "1.33", got "${props.kubernetesVersion}"`,
    );
  }
  assertTwoZones(owner, "privateSubnetIds", props.privateSubnetIds);
  assertLogRetention(owner, props.logRetentionDays);
  validatePublicAccess(owner, props.publicAccessCidrs ?? []);
  const architecture = validateNodes(owner, props);
  const addonNames = props.addons ?? DEFAULT_ADDONS;
  if (new Set(addonNames).size !== addonNames.length)
    throw new Error(`${owner}: addons must not repeat an add-on, got ${addonNames.join(", ")}`);
  validateTargets(owner, props.loadBalancer?.targets ?? []);
  return architecture;
}

function validatePublicAccess(owner: string, cidrs: readonly string[]): void {
  for (const cidr of cidrs) {
    if (cidr === "0.0.0.0/0") {
      throw new Error(
        `${owner}: publicAccessCidrs must not contain 0.0.0.0/0 (the API would be open to the internet); list the CIDRs that need it, or none for a private endpoint`,
      );
    }
    if (!Token.isUnresolved(cidr) && !IPV4_CIDR.test(cidr)) {
      throw new Error(
        `${owner}: publicAccessCidrs must hold IPv4 CIDRs such as 203.0.113.0/24, got "${cidr}"`,
      );
    }
  }
}

function validateNodes(owner: string, props: EksClusterProps): "ARM64" | "X86_64" {
  const { nodeInstanceTypes, nodeMinSize: min, nodeMaxSize: max, nodeDesiredSize: desired } = props;
  if (nodeInstanceTypes.length === 0)
    throw new Error(`${owner}: nodeInstanceTypes must name at least one instance type`);
  const invalidType = nodeInstanceTypes.find((t) => !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(t));
  if (invalidType !== undefined)
    throw new Error(
      `${owner}: nodeInstanceTypes must be EC2 instance types such as m7g.large, got "${invalidType}"`,
    );
  const architectures = [...new Set(nodeInstanceTypes.map(architectureOf))];
  if (architectures.length > 1) {
    throw new Error(
      `${owner}: nodeInstanceTypes mix ARM64 and X86_64 (${nodeInstanceTypes.join(", ")}); one node group runs one architecture`,
    );
  }
  if (!Number.isInteger(min) || min < 1) {
    throw new Error(`${owner}: nodeMinSize must be an integer of at least 1, got ${min}`);
  }
  if (!Number.isInteger(max) || max < min) {
    throw new Error(`${owner}: nodeMaxSize must be an integer of at least nodeMinSize (${min}), got ${max}`);
  }
  if (!Number.isInteger(desired) || desired < min || desired > max) {
    throw new Error(
      `${owner}: nodeDesiredSize must be between nodeMinSize and nodeMaxSize (${min}..${max}), got ${desired}`,
    );
  }
  const rootVolume = props.nodeRootVolumeGiB ?? 50;
  if (!Number.isInteger(rootVolume) || rootVolume < 20 || rootVolume > 16384) {
    throw new Error(`${owner}: nodeRootVolumeGiB must be an integer from 20 to 16384, got ${rootVolume}`);
  }
  const hopLimit = props.imdsHopLimit ?? 1;
  if (hopLimit !== 1 && hopLimit !== 2)
    throw new Error(`${owner}: imdsHopLimit must be 1 or 2, got ${hopLimit}`);
  return architectures[0] ?? "X86_64";
}

function validateTargets(owner: string, targets: readonly EksLoadBalancerTarget[]): void {
  const names = new Set<string>();
  const nodePorts = new Set<number>();
  for (const target of targets) {
    assertServiceName(owner, target.name);
    assertNodePort(`${owner} target ${target.name}`, target.nodePort);
    if (names.has(target.name))
      throw new Error(`${owner}: load balancer target "${target.name}" is defined twice`);
    if (nodePorts.has(target.nodePort))
      throw new Error(`${owner}: nodePort ${target.nodePort} is used by two load balancer targets`);
    names.add(target.name);
    nodePorts.add(target.nodePort);
  }
}
