import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CodebuildProject } from "@cdktf/provider-aws/lib/codebuild-project";
import { CodebuildWebhook } from "@cdktf/provider-aws/lib/codebuild-webhook";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { policyDocument } from "../iam/policy-document";

export interface GithubRunnerProps {
  /** CodeBuild project name; workflows select the runner with the label `codebuild-<name>-<run id>-<attempt>`. */
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  /** owner/name of the repository whose workflow jobs the runner takes. */
  readonly repository: string;
  readonly vpcId: string;
  readonly privateSubnetIds: readonly string[];
  /** The EKS cluster security group; the runner is admitted on 443 to reach the private API endpoint. */
  readonly clusterSecurityGroupId: string;
  readonly logRetentionDays: number;
  readonly logKmsKeyArn: string;
}

/**
 * A CodeBuild-hosted GitHub Actions runner in the VPC's private subnets, so the pipelines can plan
 * and apply the workloads stack against a private EKS API endpoint. Each queued workflow job whose
 * `runs-on` names the project starts one ephemeral build; the job itself still assumes the plan or
 * apply role through GitHub OIDC, so the runner's own role only runs the build.
 */
export class GithubRunner extends Construct {
  readonly project: CodebuildProject;

  constructor(scope: Construct, id: string, props: GithubRunnerProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/.test(props.name)) {
      throw new Error(`GithubRunner: name must be a CodeBuild project name, got "${props.name}"`);
    }
    const logs = new CloudwatchLogGroup(this, "Logs", {
      name: `/aws/codebuild/${props.name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });
    const role = new IamRole(this, "Role", {
      name: props.name,
      description: "CodeBuild-hosted GitHub Actions runner in the VPC",
      assumeRolePolicy: policyDocument(this, "Trust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["codebuild.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
        },
      ]).json,
    });
    const policy = new IamRolePolicy(this, "Policy", {
      role: role.name,
      name: "run-in-vpc",
      policy: policyDocument(this, "PolicyDocument", [
        {
          sid: "WriteOwnLogs",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${logs.arn}:*`],
        },
        {
          sid: "ManageNetworkInterfaces",
          effect: "Allow",
          actions: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
          resources: [`arn:aws:ec2:${props.region}:${props.accountId}:*`],
        },
        // Describe calls have no resource-level permissions: "*" is the only valid resource.
        {
          sid: "DescribeNetwork",
          effect: "Allow",
          actions: [
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
          ],
          resources: ["*"],
        },
        {
          sid: "AttachNetworkInterfaces",
          effect: "Allow",
          actions: ["ec2:CreateNetworkInterfacePermission"],
          resources: [`arn:aws:ec2:${props.region}:${props.accountId}:network-interface/*`],
          condition: [
            { test: "StringEquals", variable: "ec2:AuthorizedService", values: ["codebuild.amazonaws.com"] },
          ],
        },
      ]).json,
    });
    const securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: `${props.name}-runner`,
      description: "GitHub Actions runner: HTTPS out only",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-runner` },
    });
    // GitHub, the registries the setup actions download from, and the AWS APIs, through the NAT gateway.
    new VpcSecurityGroupEgressRule(this, "HttpsOut", {
      securityGroupId: securityGroup.id,
      description: "HTTPS to GitHub, package registries and AWS APIs",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });
    new VpcSecurityGroupIngressRule(this, "ToClusterApi", {
      securityGroupId: props.clusterSecurityGroupId,
      description: "Kubernetes API from the pipelines' in-VPC runner",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      referencedSecurityGroupId: securityGroup.id,
    });
    this.project = new CodebuildProject(this, "Project", {
      name: props.name,
      description: "Runs the GitHub Actions jobs that reach the private EKS API",
      serviceRole: role.arn,
      buildTimeout: 120,
      source: { type: "GITHUB", location: `https://github.com/${props.repository}.git` },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: {
        type: "LINUX_CONTAINER",
        computeType: "BUILD_GENERAL1_MEDIUM",
        image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
      },
      vpcConfig: {
        vpcId: props.vpcId,
        subnets: [...props.privateSubnetIds],
        securityGroupIds: [securityGroup.id],
      },
      logsConfig: { cloudwatchLogs: { groupName: logs.name, status: "ENABLED" } },
      // CodeBuild checks the role's VPC permissions when the project is created.
      dependsOn: [policy],
    });
    new CodebuildWebhook(this, "Webhook", {
      projectName: this.project.name,
      buildType: "BUILD",
      filterGroup: [{ filter: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }],
    });
  }
}
