import type { Construct } from "constructs";
import { GithubPipelineRoles } from "../modules/iam/github-oidc";
import { StateBackend } from "../modules/state/state-backend";
import { EnvironmentStack, type LayerStackProps } from "./environment-stack";

export interface BootstrapStackProps extends LayerStackProps {
  /** `local` for the first apply, `s3` once the state has been migrated into the bucket. */
  readonly backend: "local" | "s3";
}

/**
 * Run once per account by a person with administrator credentials: the state bucket and lock table
 * every other stack uses, and the GitHub OIDC provider with the plan and apply roles the pipelines
 * assume. First applied on local state, then migrated into the bucket it created (steps 1 and 2 of
 * "First run and day-to-day use" in docs/infrastructure.md).
 */
export class BootstrapStack extends EnvironmentStack {
  constructor(scope: Construct, props: BootstrapStackProps) {
    super(scope, { ...props, layer: "bootstrap" });
    const { env } = props;
    const key = this.encryptionKey("StateKey", "state", `Terraform state of ${env.name}`);
    const state = new StateBackend(this, "State", {
      bucketName: env.state.bucket,
      lockTableName: env.state.lockTable,
      kmsKeyArn: key.arn,
    });
    const roles = new GithubPipelineRoles(this, "Pipeline", {
      environment: env.name,
      namePrefix: this.namePrefix,
      accountId: env.accountId,
      region: env.region,
      repository: env.githubRepository,
      stateBucketArn: state.bucket.arn,
      lockTableArn: state.lockTable.arn,
      stateKmsKeyArn: key.arn,
      oidcProvider: env.githubOidcProvider,
    });
    this.output("state_bucket", state.bucket.bucket, "S3 bucket holding this account's Terraform state");
    this.output("lock_table", state.lockTable.name, "DynamoDB table locking Terraform state");
    this.output("plan_role_arn", roles.planRole.arn, "Set as AWS_PLAN_ROLE_ARN in the GitHub environment");
    this.output("apply_role_arn", roles.applyRole.arn, "Set as AWS_APPLY_ROLE_ARN in the GitHub environment");
  }
}
