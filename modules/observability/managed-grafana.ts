import { GrafanaWorkspace } from "@cdktf/provider-aws/lib/grafana-workspace";
import { GrafanaWorkspaceServiceAccount } from "@cdktf/provider-aws/lib/grafana-workspace-service-account";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { GRAFANA_VERSION } from "../../dashboards/src/registry";
import { policyDocument } from "../iam/policy-document";

export interface ManagedGrafanaProps {
  /** Environment name, in the workspace description. */
  readonly environment: string;
  /** Prefix of resource names, e.g. `blueprint-prod`; names the workspace. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly region: string;
  /** ARN of the AMP workspace the Grafana role may query. */
  readonly prometheusWorkspaceArn: string;
  /**
   * How people sign in. IAM Identity Center must be enabled in the account (or organisation) for
   * `AWS_SSO`; `SAML` needs a SAML configuration added after creation.
   * @default ["AWS_SSO"]
   */
  readonly authenticationProviders?: ReadonlyArray<"AWS_SSO" | "SAML">;
  /**
   * Grafana version of the workspace. Raising it upgrades the workspace in place, and AMG never
   * downgrades one.
   * @default GRAFANA_VERSION, the line compose runs and the dashboards' schema is written for
   */
  readonly grafanaVersion?: string;
}

/**
 * An Amazon Managed Grafana workspace whose role can read the environment's AMP workspace and
 * CloudWatch, plus an editor service account for the delivery pipeline.
 *
 * AWS has no API to provision dashboards or data sources in Managed Grafana, and the Grafana
 * Terraform provider would need a long-lived token in state. Instead the pipeline mints a
 * short-lived token for `serviceAccount` (`aws grafana create-workspace-service-account-token
 * --seconds-to-live 600`) and posts the data source and `dashboards/generated/grafana/*.json` to the
 * workspace's Grafana HTTP API (`/api/datasources`, `/api/dashboards/db`).
 */
export class ManagedGrafana extends Construct {
  readonly workspace: GrafanaWorkspace;
  /** `https://<id>.grafana-workspace.<region>.amazonaws.com` without the scheme. */
  readonly endpoint: string;
  readonly role: IamRole;
  readonly serviceAccount: GrafanaWorkspaceServiceAccount;

  constructor(scope: Construct, id: string, props: ManagedGrafanaProps) {
    super(scope, id);
    const authenticationProviders = props.authenticationProviders ?? ["AWS_SSO"];
    const grafanaVersion = props.grafanaVersion ?? GRAFANA_VERSION;
    if (authenticationProviders.length === 0) {
      throw new Error(
        `ManagedGrafana ${props.environment}: authenticationProviders must name at least one provider`,
      );
    }
    const name = props.namePrefix;

    this.role = new IamRole(this, "Role", {
      name: `${name}-grafana`,
      description: `Lets the ${name} Grafana workspace read AMP and CloudWatch`,
      assumeRolePolicy: policyDocument(this, "Trust", [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["grafana.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] },
            {
              test: "ArnLike",
              variable: "aws:SourceArn",
              values: [`arn:aws:grafana:${props.region}:${props.accountId}:/workspaces/*`],
            },
          ],
        },
      ]).json,
    });
    new IamRolePolicy(this, "ReadMetrics", {
      role: this.role.name,
      name: "read-metrics",
      policy: policyDocument(this, "ReadMetricsPolicy", [
        {
          sid: "QueryPrometheus",
          effect: "Allow",
          actions: [
            "aps:QueryMetrics",
            "aps:GetSeries",
            "aps:GetLabels",
            "aps:GetMetricMetadata",
            "aps:DescribeWorkspace",
          ],
          resources: [props.prometheusWorkspaceArn],
        },
        {
          sid: "ReadAlarms",
          effect: "Allow",
          actions: ["cloudwatch:DescribeAlarms"],
          resources: [`arn:aws:cloudwatch:${props.region}:${props.accountId}:alarm:*`],
        },
        // These list and read calls have no resource-level permissions: "*" is the only valid resource.
        {
          sid: "ReadCloudWatch",
          effect: "Allow",
          actions: [
            "aps:ListWorkspaces",
            "cloudwatch:GetMetricData",
            "cloudwatch:ListMetrics",
            "tag:GetResources",
          ],
          resources: ["*"],
        },
      ]).json,
    });
    this.workspace = new GrafanaWorkspace(this, "Workspace", {
      name,
      description: `Dashboards of the ${props.environment} environment (generated in dashboards/)`,
      accountAccessType: "CURRENT_ACCOUNT",
      authenticationProviders: [...authenticationProviders],
      permissionType: "CUSTOMER_MANAGED",
      roleArn: this.role.arn,
      dataSources: ["PROMETHEUS", "CLOUDWATCH"],
      grafanaVersion,
    });
    this.endpoint = this.workspace.endpoint;
    this.serviceAccount = new GrafanaWorkspaceServiceAccount(this, "DeployServiceAccount", {
      workspaceId: this.workspace.id,
      name: "blueprint-deploy",
      grafanaRole: "EDITOR",
    });
  }
}
