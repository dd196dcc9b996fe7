import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";

export interface EnvironmentStackProps {
  readonly env: EnvironmentConfig;
  /** Layer name, e.g. "network"; part of the stack id and of the state key. */
  readonly layer: string;
}

/**
 * Base of every per-environment stack: the AWS provider with default tags and an S3 backend
 * with its own state key, encryption and DynamoDB locking.
 */
export class EnvironmentStack extends TerraformStack {
  readonly env: EnvironmentConfig;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    super(scope, `${props.env.name}-${props.layer}`);
    this.env = props.env;
    new AwsProvider(this, "Aws", {
      region: props.env.region,
      allowedAccountIds: [props.env.accountId],
      defaultTags: [
        {
          tags: {
            Environment: props.env.name,
            Owner: props.env.tags.owner,
            CostCenter: props.env.tags.costCenter,
            ManagedBy: "cdktf",
            Stack: props.layer,
          },
        },
      ],
    });
    new S3Backend(this, {
      bucket: props.env.state.bucket,
      key: `${props.env.name}/${props.layer}.tfstate`,
      region: props.env.state.region,
      encrypt: true,
      dynamodbTable: props.env.state.lockTable,
    });
  }
}
