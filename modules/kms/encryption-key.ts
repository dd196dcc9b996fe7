import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";

/** Key administration and use by the account's IAM principals (IAM policies still decide who). */
const ACCOUNT_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:RetireGrant",
  "kms:RevokeGrant",
  "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
];

export interface EncryptionKeyProps {
  /** Alias without the `alias/` prefix, e.g. `blueprint-prod-data`. */
  readonly alias: string;
  readonly description: string;
  readonly accountId: string;
  readonly region: string;
  /**
   * Create the key in `region` even when the stack's provider points elsewhere (a disaster-recovery
   * copy's key must live where the copy does). @default the provider's region
   */
  readonly placeInRegion?: boolean;
  /**
   * Service principals allowed to use the key directly, e.g. `logs` for CloudWatch Logs
   * (scoped to this account's log groups).
   * @default none
   */
  readonly servicePrincipals?: readonly ("logs" | "delivery.logs")[];
  /** @default 30 */
  readonly deletionWindowDays?: number;
  /**
   * Further key policy statements (IAM JSON), e.g. AWS services that encrypt with the key.
   * @default none
   */
  readonly additionalStatements?: readonly Record<string, unknown>[];
}

/** A customer managed KMS key with yearly rotation, an alias and an explicit key policy. */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const deletionWindowDays = props.deletionWindowDays ?? 30;
    if (deletionWindowDays < 7 || deletionWindowDays > 30) {
      throw new Error(
        `EncryptionKey ${props.alias}: deletionWindowDays must be 7 to 30, got ${deletionWindowDays}`,
      );
    }
    // The key policy is rendered inline: its Resource "*" means "this key", which IAM policy
    // checks would misread as a wildcard over all resources.
    const statements: Record<string, unknown>[] = [
      {
        Sid: "AccountAdministrationAndUse",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${props.accountId}:root` },
        Action: ACCOUNT_ACTIONS,
        Resource: "*",
      },
    ];
    for (const service of props.servicePrincipals ?? []) {
      statements.push({
        Sid: `Service${service.replace(/[^a-z]/g, "")}`,
        Effect: "Allow",
        Principal: { Service: `${service}.${props.region}.amazonaws.com` },
        Action: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
          "kms:GenerateDataKey",
          "kms:DescribeKey",
        ],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${props.region}:${props.accountId}:log-group:*`,
          },
        },
      });
    }
    statements.push(...(props.additionalStatements ?? []));
    const placement = props.placeInRegion ? props.region : undefined;
    this.key = new KmsKey(this, "Key", {
      region: placement,
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: deletionWindowDays,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
      // Data encrypted under a deleted key is lost for good: no plan may schedule its deletion.
      lifecycle: { preventDestroy: true },
    });
    new KmsAlias(this, "Alias", {
      region: placement,
      name: `alias/${props.alias}`,
      targetKeyId: this.key.keyId,
    });
    this.arn = this.key.arn;
  }
}
