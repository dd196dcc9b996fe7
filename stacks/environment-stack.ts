import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Aspects, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../environments";
import { type GithubRoleKind, githubRoleName, workloadBoundaryArn } from "../modules/iam/github-oidc";
import { PermissionsBoundary } from "../modules/iam/permissions-boundary";
import { EncryptionKey, type EncryptionKeyProps } from "../modules/kms/encryption-key";

/** Name of the platform: the first part of every resource name. */
export const PLATFORM = "blueprint";

/** Oldest Terraform that can run these stacks: S3 lockfile locking arrived in 1.10. */
export const MINIMUM_TERRAFORM_VERSION = "1.10.0";

/** Folder, relative to the repository root, holding local state files until they are migrated. */
export const LOCAL_STATE_DIR = ".state";

/**
 * Where a stack on local state keeps it, relative to the folder Terraform runs in
 * (`cdktf.out/stacks/<stack>`): outside `cdktf.out`, which `cdktf synth` empties of every stack not
 * in the current run, so synthesizing one environment never deletes another's only state copy.
 */
export function localStatePath(stackId: string): string {
  return `../../../${LOCAL_STATE_DIR}/${stackId}.tfstate`;
}

/** What every layer stack is built from; each layer adds the stacks it builds on. */
export interface LayerStackProps {
  readonly env: EnvironmentConfig;
}

export interface EnvironmentStackProps extends LayerStackProps {
  /** Layer name, e.g. "network"; part of the stack id (`<env>-<layer>`) and of the state key. */
  readonly layer: string;
  /**
   * `s3`: remote state, encrypted, locked by DynamoDB and by an S3 lockfile.
   * `local`: a local file; only the bootstrap stack's first run, before the bucket exists.
   * @default "s3"
   */
  readonly backend?: "s3" | "local";
}

/**
 * Base of every per-environment stack: the AWS provider pinned to the environment's account with
 * default tags (environment, owner, cost center, ManagedBy, stack), and the state backend.
 */
export class EnvironmentStack extends TerraformStack {
  readonly env: EnvironmentConfig;
  readonly layer: string;
  /** Prefix of the environment's resource names, e.g. `blueprint-prod`; built here only. */
  readonly namePrefix: string;
  /** Prefix of the environment's Secrets Manager names, e.g. `blueprint/prod`. */
  readonly secretPrefix: string;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    super(scope, `${props.env.name}-${props.layer}`);
    this.env = props.env;
    this.layer = props.layer;
    this.namePrefix = `${PLATFORM}-${props.env.name}`;
    this.secretPrefix = `${PLATFORM}/${props.env.name}`;
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
            Stack: `${props.env.name}-${props.layer}`,
          },
        },
      ],
    });
    // The S3 backend's use_lockfile below needs Terraform 1.10; an older one would ignore the lock.
    this.addOverride("terraform.required_version", `>= ${MINIMUM_TERRAFORM_VERSION}`);
    // The pipeline applies every layer but bootstrap, and may only create roles under this boundary.
    if (props.layer !== "bootstrap") {
      Aspects.of(this).add(
        new PermissionsBoundary(workloadBoundaryArn(props.env.accountId, this.namePrefix)),
      );
    }
    if ((props.backend ?? "s3") === "local") {
      new LocalBackend(this, { path: localStatePath(this.node.id) });
    } else {
      new S3Backend(this, {
        bucket: props.env.state.bucket,
        key: `${props.env.name}/${props.layer}.tfstate`,
        region: props.env.region,
        encrypt: true,
        dynamodbTable: props.env.state.lockTable,
      });
      // Terraform >= 1.10 locks with an S3 lockfile; cdktf's S3Backend does not know the field yet.
      // The DynamoDB table stays until every user runs a Terraform that supports the lockfile.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    }
  }

  /**
   * ARN of one of the environment's GitHub Actions roles. The plan and apply roles live in the
   * bootstrap stack, whose first state is local and cannot be read remotely, so the ARN is built
   * from the same naming function the roles use.
   */
  githubRoleArn(kind: GithubRoleKind): string {
    return `arn:aws:iam::${this.env.accountId}:role/${githubRoleName(this.namePrefix, kind)}`;
  }

  /** A KMS key of this environment, aliased `<namePrefix>-<aliasSuffix>`, for one layer's data. */
  protected encryptionKey(
    id: string,
    aliasSuffix: string,
    description: string,
    servicePrincipals?: EncryptionKeyProps["servicePrincipals"],
  ): EncryptionKey {
    return new EncryptionKey(this, id, {
      alias: `${this.namePrefix}-${aliasSuffix}`,
      description,
      accountId: this.env.accountId,
      region: this.env.region,
      servicePrincipals,
    });
  }

  /** A stack output with a description (the only place outputs are declared). */
  protected output(id: string, value: unknown, description: string, sensitive = false): TerraformOutput {
    return new TerraformOutput(this, id, { value, description, sensitive });
  }
}
