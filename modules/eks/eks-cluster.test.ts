import { describe, expect, it } from "vitest";
import { onlyResource, policyStatements, resourcesOf, synthesizer } from "../testing/synth";
import { EksCluster, type EksClusterProps } from "./eks-cluster";

/** A Terraform interpolation as it appears in synthesized JSON, with the construct hash left open. */
const refTo = (type: string, idPrefix: string, attribute: string) =>
  expect.stringMatching(
    new RegExp(`^\\$\\{${type}\\.${idPrefix}_[0-9A-F]{8}\\.${attribute.replace(/[[\].]/g, "\\$&")}\\}$`),
  );

const APPLY_ROLE = "arn:aws:iam::333333333333:role/blueprint-prod-github-apply";
const DEPLOY_ROLE = "arn:aws:iam::333333333333:role/blueprint-prod-github-deploy";

function props(overrides: Partial<EksClusterProps> = {}): EksClusterProps {
  return {
    clusterName: "blueprint-prod",
    kubernetesVersion: "1.33",
    privateSubnetIds: ["subnet-a", "subnet-b", "subnet-c"],
    secretsKmsKeyArn: "arn:aws:kms:eu-west-1:333333333333:key/secrets",
    logRetentionDays: 365,
    logKmsKeyArn: "arn:aws:kms:eu-west-1:333333333333:key/logs",
    nodeInstanceTypes: ["m7g.large"],
    nodeMinSize: 3,
    nodeMaxSize: 9,
    nodeDesiredSize: 3,
    ...overrides,
  };
}

const synth = synthesizer(EksCluster, "Eks", props());

describe("EksCluster", () => {
  describe("with minimal props", () => {
    const stack = synth();
    const cluster = onlyResource(stack, "aws_eks_cluster");

    it("When synthesized, then the API endpoint is private only", () => {
      expect(cluster.vpc_config).toEqual({
        subnet_ids: ["subnet-a", "subnet-b", "subnet-c"],
        endpoint_private_access: true,
        endpoint_public_access: false,
      });
    });

    it("When synthesized, then Kubernetes Secrets are envelope-encrypted with the given KMS key", () => {
      expect(cluster.encryption_config).toEqual({
        resources: ["secrets"],
        provider: { key_arn: "arn:aws:kms:eu-west-1:333333333333:key/secrets" },
      });
      expect(policyStatements(stack)).toContainEqual(
        expect.objectContaining({
          sid: "EnvelopeEncryptSecrets",
          actions: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
          resources: ["arn:aws:kms:eu-west-1:333333333333:key/secrets"],
        }),
      );
    });

    it("When synthesized, then every control-plane log type goes to a pre-created, encrypted log group with retention", () => {
      expect(cluster.enabled_cluster_log_types).toEqual([
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
      ]);
      expect(resourcesOf(stack, "aws_cloudwatch_log_group")).toContainEqual({
        name: "/aws/eks/blueprint-prod/cluster",
        retention_in_days: 365,
        kms_key_id: "arn:aws:kms:eu-west-1:333333333333:key/logs",
      });
      expect(cluster.depends_on).toContainEqual(
        expect.stringMatching(/^aws_cloudwatch_log_group\.Eks_ControlPlaneLogGroup_/),
      );
    });

    it("When synthesized, then access goes through access entries only and the creator gets no implicit admin", () => {
      expect(cluster).toMatchObject({
        name: "blueprint-prod",
        version: "1.33",
        access_config: { authentication_mode: "API", bootstrap_cluster_creator_admin_permissions: false },
        deletion_protection: false,
      });
      expect(resourcesOf(stack, "aws_eks_access_entry")).toEqual([]);
    });

    it("When synthesized, then the launch template requires IMDSv2 with a hop limit of 1 and an encrypted gp3 root volume", () => {
      expect(onlyResource(stack, "aws_launch_template")).toMatchObject({
        name: "blueprint-prod-nodes",
        metadata_options: {
          http_endpoint: "enabled",
          http_tokens: "required",
          http_put_response_hop_limit: 1,
        },
        block_device_mappings: [
          {
            device_name: "/dev/xvda",
            ebs: { encrypted: "true", volume_type: "gp3", volume_size: 50, delete_on_termination: "true" },
          },
        ],
        vpc_security_group_ids: [
          refTo("aws_eks_cluster", "Eks_Cluster", "vpc_config[0].cluster_security_group_id"),
        ],
      });
    });

    it("When synthesized, then the managed node group runs in the private subnets from the launch template", () => {
      expect(onlyResource(stack, "aws_eks_node_group")).toMatchObject({
        node_group_name_prefix: "blueprint-prod-",
        subnet_ids: ["subnet-a", "subnet-b", "subnet-c"],
        instance_types: ["m7g.large"],
        ami_type: "AL2023_ARM_64_STANDARD",
        capacity_type: "ON_DEMAND",
        scaling_config: { min_size: 3, max_size: 9, desired_size: 3 },
        launch_template: {
          id: refTo("aws_launch_template", "Eks_NodeLaunchTemplate", "id"),
          version: refTo("aws_launch_template", "Eks_NodeLaunchTemplate", "latest_version"),
        },
        update_config: { max_unavailable: 1 },
      });
    });

    it("When synthesized, then an OIDC provider for IRSA trusts the cluster issuer for STS", () => {
      expect(onlyResource(stack, "aws_iam_openid_connect_provider")).toEqual({
        url: refTo("aws_eks_cluster", "Eks_Cluster", "identity[0].oidc[0].issuer"),
        client_id_list: ["sts.amazonaws.com"],
      });
    });

    it("When synthesized, then the VPC CNI (enforcing NetworkPolicies), CoreDNS, kube-proxy, metrics-server and CloudWatch observability add-ons are installed", () => {
      const addons = resourcesOf(stack, "aws_eks_addon");
      expect(addons.map((a) => a.addon_name).sort()).toEqual([
        "amazon-cloudwatch-observability",
        "coredns",
        "kube-proxy",
        "metrics-server",
        "vpc-cni",
      ]);
      expect(addons.find((a) => a.addon_name === "vpc-cni")?.configuration_values).toBe(
        '{"enableNetworkPolicy":"true"}',
      );
      for (const name of ["coredns", "metrics-server"]) {
        expect(addons.find((a) => a.addon_name === name)?.depends_on).toEqual([
          expect.stringMatching(/^aws_eks_node_group\.Eks_NodeGroup_/),
        ]);
      }
      expect(onlyResource(stack, "aws_eks_node_group").depends_on).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^aws_eks_addon\.Eks_VpcCniAddon_/),
          expect.stringMatching(/^aws_eks_addon\.Eks_KubeProxyAddon_/),
        ]),
      );
    });

    it("When synthesized, then the node role holds only the AWS managed node policies, and the log shipper its own role", () => {
      const attachments = resourcesOf(stack, "aws_iam_role_policy_attachment").map((a) => a.policy_arn);
      expect(attachments.sort()).toEqual([
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
      ]);
      expect(
        resourcesOf(stack, "aws_iam_role")
          .map((r) => r.name)
          .sort(),
      ).toEqual(["blueprint-prod-cloudwatch-agent", "blueprint-prod-cluster", "blueprint-prod-node"]);
    });

    it("When pods log, then their logs go to pre-created, encrypted log groups with the cluster's retention", () => {
      const groups = resourcesOf(stack, "aws_cloudwatch_log_group").filter((g) =>
        String(g.name).startsWith("/aws/containerinsights/"),
      );
      expect(groups.map((g) => g.name).sort()).toEqual([
        "/aws/containerinsights/blueprint-prod/application",
        "/aws/containerinsights/blueprint-prod/dataplane",
        "/aws/containerinsights/blueprint-prod/host",
        "/aws/containerinsights/blueprint-prod/performance",
      ]);
      for (const g of groups)
        expect(g).toMatchObject({ retention_in_days: 365, kms_key_id: expect.any(String) });
      const addon = resourcesOf(stack, "aws_eks_addon").find(
        (a) => a.addon_name === "amazon-cloudwatch-observability",
      );
      expect(
        ((addon?.depends_on ?? []) as string[]).filter((d) => d.startsWith("aws_cloudwatch_log_group.")),
      ).toHaveLength(4);
    });

    it("When synthesized, then no IAM statement grants a wildcard action", () => {
      const actions = policyStatements(stack).flatMap((s) => s.actions as string[]);
      expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    });

    it("When no load balancer is given, then nothing is attached and no rule opens the nodes", () => {
      expect(resourcesOf(stack, "aws_autoscaling_attachment")).toEqual([]);
      expect(resourcesOf(stack, "aws_vpc_security_group_ingress_rule")).toEqual([]);
    });

    it("When synthesized twice, then the output is identical", () => {
      expect(JSON.stringify(synth())).toBe(JSON.stringify(stack));
    });
  });

  describe("with every knob set", () => {
    const stack = synth({
      publicAccessCidrs: ["203.0.113.0/24"],
      access: {
        GithubApply: { principalArn: APPLY_ROLE, policy: "AmazonEKSClusterAdminPolicy" },
        GithubDeploy: { principalArn: DEPLOY_ROLE, policy: "AmazonEKSEditPolicy", namespaces: ["blueprint"] },
      },
      nodeInstanceTypes: ["m7i.large", "m6i.large"],
      nodeCapacityType: "SPOT",
      nodeRootVolumeGiB: 80,
      nodeSecurityGroupIds: ["sg-services"],
      imdsHopLimit: 2,
      addons: ["vpc-cni", "aws-ebs-csi-driver"],
      loadBalancer: {
        securityGroupId: "sg-alb",
        targets: [
          {
            name: "user-service",
            targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/user/1",
            nodePort: 30081,
          },
          {
            name: "order-service",
            targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/order/2",
            nodePort: 30082,
          },
        ],
      },
      deletionProtection: true,
    });

    it("When public CIDRs are given, then the public endpoint opens to exactly those", () => {
      expect(onlyResource(stack, "aws_eks_cluster")).toMatchObject({
        vpc_config: {
          endpoint_private_access: true,
          endpoint_public_access: true,
          public_access_cidrs: ["203.0.113.0/24"],
        },
        deletion_protection: true,
      });
    });

    it("When access is given, then each role gets an access entry and its policy at its scope", () => {
      expect(resourcesOf(stack, "aws_eks_access_entry").map((e) => e.principal_arn)).toEqual([
        APPLY_ROLE,
        DEPLOY_ROLE,
      ]);
      expect(resourcesOf(stack, "aws_eks_access_policy_association")).toEqual([
        expect.objectContaining({
          policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
          access_scope: { type: "cluster" },
        }),
        expect.objectContaining({
          policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
          access_scope: { type: "namespace", namespaces: ["blueprint"] },
        }),
      ]);
    });

    it("When x86 Spot instances, a larger disk, extra groups and hop limit 2 are set, then nodes follow them", () => {
      expect(onlyResource(stack, "aws_eks_node_group")).toMatchObject({
        ami_type: "AL2023_x86_64_STANDARD",
        capacity_type: "SPOT",
        instance_types: ["m7i.large", "m6i.large"],
      });
      const template = onlyResource(stack, "aws_launch_template");
      expect(template).toMatchObject({
        metadata_options: { http_tokens: "required", http_put_response_hop_limit: 2 },
        block_device_mappings: [{ ebs: { volume_size: 80 } }],
      });
      expect(template.vpc_security_group_ids).toEqual([expect.any(String), "sg-services"]);
    });

    it("When the EBS CSI add-on is chosen, then its controller assumes its own role through IRSA", () => {
      expect(resourcesOf(stack, "aws_eks_addon").map((a) => a.addon_name)).toEqual([
        "aws-ebs-csi-driver",
        "vpc-cni",
      ]);
      expect(resourcesOf(stack, "aws_eks_addon")[0]?.service_account_role_arn).toEqual(
        refTo("aws_iam_role", "Eks_EbsCsiRole", "arn"),
      );
      expect(policyStatements(stack)).toContainEqual(
        expect.objectContaining({
          actions: ["sts:AssumeRoleWithWebIdentity"],
          condition: expect.arrayContaining([
            expect.objectContaining({ values: ["system:serviceaccount:kube-system:ebs-csi-controller-sa"] }),
          ]),
        }),
      );
    });

    it("When targets are given, then each target group is attached to the node group's Auto Scaling group", () => {
      expect(resourcesOf(stack, "aws_autoscaling_attachment")).toEqual([
        {
          autoscaling_group_name: refTo(
            "aws_eks_node_group",
            "Eks_NodeGroup",
            "resources[0].autoscaling_groups[0].name",
          ),
          lb_target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/order/2",
        },
        {
          autoscaling_group_name: refTo(
            "aws_eks_node_group",
            "Eks_NodeGroup",
            "resources[0].autoscaling_groups[0].name",
          ),
          lb_target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/user/1",
        },
      ]);
    });

    it("When targets are given, then the nodes admit the ALB security group on each NodePort and nothing else", () => {
      const rules = resourcesOf(stack, "aws_vpc_security_group_ingress_rule");
      expect(rules).toEqual([
        expect.objectContaining({
          referenced_security_group_id: "sg-alb",
          ip_protocol: "tcp",
          from_port: 30082,
          to_port: 30082,
        }),
        expect.objectContaining({
          referenced_security_group_id: "sg-alb",
          ip_protocol: "tcp",
          from_port: 30081,
          to_port: 30081,
        }),
      ]);
      for (const rule of rules) {
        expect(rule.security_group_id).toEqual(
          refTo("aws_eks_cluster", "Eks_Cluster", "vpc_config[0].cluster_security_group_id"),
        );
      }
    });
  });

  describe("validation", () => {
    const owner = "EksCluster blueprint-prod";
    const target = { name: "user-service", targetGroupArn: "tg", nodePort: 30081 };
    it.each<[string, Partial<EksClusterProps>, string]>([
      [
        "an invalid cluster name",
        { clusterName: "-prod" },
        'EksCluster -prod: clusterName must start with a letter or digit and hold letters, digits, hyphens and underscores, got "-prod"',
      ],
      [
        "a patch version",
        { kubernetesVersion: "1.33.1" },
        `${owner}: kubernetesVersion must be a minor version such as "1.33", got "1.33.1"`,
      ],
      [
        "one subnet",
        { privateSubnetIds: ["subnet-a"] },
        `${owner}: privateSubnetIds must span at least 2 AZs, got 1 subnet(s)`,
      ],
      [
        "a retention CloudWatch does not offer",
        { logRetentionDays: 0 },
        `${owner}: logRetentionDays must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653), got 0`,
      ],
      [
        "a public endpoint open to the internet",
        { publicAccessCidrs: ["0.0.0.0/0"] },
        `${owner}: publicAccessCidrs must not contain 0.0.0.0/0 (the API would be open to the internet); list the CIDRs that need it, or none for a private endpoint`,
      ],
      [
        "a public CIDR that is not one",
        { publicAccessCidrs: ["203.0.113.0"] },
        `${owner}: publicAccessCidrs must hold IPv4 CIDRs such as 203.0.113.0/24, got "203.0.113.0"`,
      ],
      [
        "an access key that cannot name a construct",
        { access: { "github-apply": { principalArn: APPLY_ROLE, policy: "AmazonEKSClusterAdminPolicy" } } },
        `${owner}: access keys name constructs and must be PascalCase such as "GithubApply", got "github-apply"`,
      ],
      [
        "an access principal that is not a role",
        {
          access: {
            GithubApply: {
              principalArn: "arn:aws:iam::333333333333:user/alice",
              policy: "AmazonEKSClusterAdminPolicy",
            },
          },
        },
        `${owner}: access GithubApply principalArn must be an IAM role ARN, got "arn:aws:iam::333333333333:user/alice"`,
      ],
      [
        "an empty namespace list",
        {
          access: {
            GithubDeploy: { principalArn: DEPLOY_ROLE, policy: "AmazonEKSEditPolicy", namespaces: [] },
          },
        },
        `${owner}: access GithubDeploy namespaces must name at least one namespace, or be left out for the whole cluster`,
      ],
      [
        "no instance types",
        { nodeInstanceTypes: [] },
        `${owner}: nodeInstanceTypes must name at least one instance type`,
      ],
      [
        "an invalid instance type",
        { nodeInstanceTypes: ["large"] },
        `${owner}: nodeInstanceTypes must be EC2 instance types such as m7g.large, got "large"`,
      ],
      [
        "mixed architectures",
        { nodeInstanceTypes: ["m7g.large", "m7i.large"] },
        `${owner}: nodeInstanceTypes mix ARM64 and X86_64 (m7g.large, m7i.large); one node group runs one architecture`,
      ],
      [
        "no minimum nodes",
        { nodeMinSize: 0 },
        `${owner}: nodeMinSize must be an integer of at least 1, got 0`,
      ],
      [
        "max below min",
        { nodeMaxSize: 2 },
        `${owner}: nodeMaxSize must be an integer of at least nodeMinSize (3), got 2`,
      ],
      [
        "desired above max",
        { nodeDesiredSize: 10 },
        `${owner}: nodeDesiredSize must be between nodeMinSize and nodeMaxSize (3..9), got 10`,
      ],
      [
        "a tiny root volume",
        { nodeRootVolumeGiB: 8 },
        `${owner}: nodeRootVolumeGiB must be an integer from 20 to 16384, got 8`,
      ],
      ["hop limit 3", { imdsHopLimit: 3 as 1 }, `${owner}: imdsHopLimit must be 1 or 2, got 3`],
      [
        "an add-on twice",
        { addons: ["coredns", "coredns"] },
        `${owner}: addons must not repeat an add-on, got coredns, coredns`,
      ],
      [
        "a NodePort outside the range",
        { loadBalancer: { securityGroupId: "sg-alb", targets: [{ ...target, nodePort: 8081 }] } },
        `${owner} target user-service: nodePort must be an integer from 30000 to 32767, got 8081`,
      ],
      [
        "a target twice",
        { loadBalancer: { securityGroupId: "sg-alb", targets: [target, { ...target, nodePort: 30082 }] } },
        `${owner}: load balancer target "user-service" is defined twice`,
      ],
      [
        "a NodePort twice",
        {
          loadBalancer: {
            securityGroupId: "sg-alb",
            targets: [target, { ...target, name: "order-service" }],
          },
        },
        `${owner}: nodePort 30081 is used by two load balancer targets`,
      ],
    ])("When given %s, then it fails with what is wrong and how to fix it", (_, overrides, message) => {
      expect(() => synth(overrides)).toThrow(new Error(message));
    });
  });
});
