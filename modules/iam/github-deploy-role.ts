import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { githubRoleName, githubTrust } from "./github-oidc";
import { type PolicyStatement, policyDocument } from "./policy-document";

export interface GithubDeployRoleProps {
  /** Environment name: the GitHub environment that may deploy. */
  readonly environment: string;
  /** Prefix of the role name (`<prefix>-github-deploy`), e.g. `blueprint-prod`. */
  readonly namePrefix: string;
  readonly accountId: string;
  /** `owner/name` of the repository whose service pipeline deploys. */
  readonly repository: string;
  /** ECR repositories the pipeline pushes images to. */
  readonly repositoryArns: readonly string[];
  /** ECS: the cluster and the service ARNs it updates. @default none */
  readonly ecs?: {
    readonly clusterArn: string;
    readonly serviceArns: readonly string[];
    readonly passRoleArns: readonly string[];
  };
  /** EKS: the cluster it reaches with kubectl (Kubernetes RBAC comes from an access entry). @default none */
  readonly eksClusterArn?: string;
}

/**
 * The service pipeline's role: push images to the service repositories and roll them out (a new ECS
 * task definition revision, or `kubectl set image` on EKS), only from the GitHub environment.
 */
export class GithubDeployRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: GithubDeployRoleProps) {
    super(scope, id);
    if (!props.ecs && !props.eksClusterArn) {
      throw new Error(
        `GithubDeployRole ${props.environment}: give either ecs or eksClusterArn, the deployment target`,
      );
    }
    this.role = new IamRole(this, "Role", {
      name: githubRoleName(props.namePrefix, "deploy"),
      description: "GitHub Actions: push service images and roll them out",
      maxSessionDuration: 3600,
      assumeRolePolicy: policyDocument(this, "Trust", [
        githubTrust(props.accountId, props.repository, [`environment:${props.environment}`]),
      ]).json,
    });
    const statements: PolicyStatement[] = [
      // GetAuthorizationToken has no resource-level permissions.
      { sid: "RegistryLogin", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      {
        sid: "PushServiceImages",
        effect: "Allow",
        actions: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImages",
          "ecr:DescribeImageScanFindings",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ],
        resources: [...props.repositoryArns],
      },
    ];
    if (props.ecs) {
      statements.push(
        {
          // Task definition registration has no resource-level permissions.
          sid: "RegisterTaskDefinitions",
          effect: "Allow",
          actions: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
          resources: ["*"],
        },
        {
          sid: "RollOutServices",
          effect: "Allow",
          actions: ["ecs:DescribeServices", "ecs:UpdateService"],
          resources: [...props.ecs.serviceArns],
        },
        {
          sid: "PassTaskRoles",
          effect: "Allow",
          actions: ["iam:PassRole"],
          resources: [...props.ecs.passRoleArns],
        },
      );
    }
    if (props.eksClusterArn) {
      statements.push({
        sid: "ReachCluster",
        effect: "Allow",
        actions: ["eks:DescribeCluster"],
        resources: [props.eksClusterArn],
      });
    }
    new IamRolePolicy(this, "Policy", {
      role: this.role.name,
      name: "push-and-roll-out",
      policy: policyDocument(this, "PolicyDocument", statements).json,
    });
  }
}
