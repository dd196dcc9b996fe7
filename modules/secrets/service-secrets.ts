import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Construct } from "constructs";
import { ByName } from "../workload/by-name";

export interface ServiceSecretSpec {
  /** Secret name suffix, e.g. `user-service/database`. */
  readonly name: string;
  readonly description: string;
}

export interface ServiceSecretsProps {
  /** Secret names are `<prefix>/<spec.name>`, e.g. `blueprint/prod/user-service/database`. */
  readonly prefix: string;
  readonly secrets: readonly ServiceSecretSpec[];
  /** KMS key encrypting the secret values. */
  readonly kmsKeyArn: string;
  /** Days a deleted secret can be restored. @default 30 */
  readonly recoveryWindowDays?: number;
}

/**
 * The Secrets Manager entries the services read. Terraform creates the containers only: values are
 * written by the database bootstrap (service role passwords) and by operators (SMTP credentials), so
 * no secret value appears in code, plans or state. The services get the secrets' ARNs and read the
 * values at start (ECS injects them; on EKS the service reads them with its own role).
 */
export class ServiceSecrets extends Construct {
  private readonly byName: ByName<SecretsmanagerSecret>;

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    this.byName = new ByName(`ServiceSecrets ${props.prefix}`, "secret");
    const recoveryWindowDays = props.recoveryWindowDays ?? 30;
    if (recoveryWindowDays !== 0 && (recoveryWindowDays < 7 || recoveryWindowDays > 30)) {
      throw new Error(`ServiceSecrets: recoveryWindowDays must be 0 or 7 to 30, got ${recoveryWindowDays}`);
    }
    for (const spec of props.secrets) {
      this.byName.add(
        spec.name,
        () =>
          new SecretsmanagerSecret(this, `Secret-${spec.name.replace(/\//g, "-")}`, {
            name: `${props.prefix}/${spec.name}`,
            description: spec.description,
            kmsKeyId: props.kmsKeyArn,
            recoveryWindowInDays: recoveryWindowDays,
          }),
      );
    }
  }

  /** The secret named `name` (relative to the prefix); throws naming the known ones when there is none. */
  secret(name: string): SecretsmanagerSecret {
    return this.byName.get(name);
  }
}
