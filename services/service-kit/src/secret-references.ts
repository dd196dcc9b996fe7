/**
 * Secrets read at start from AWS Secrets Manager, on platforms that do not inject them (EKS). The
 * platform sets one plain variable, ENV_VALUE_FROM: a JSON object from variable name to the same
 * reference ECS uses in a container's `valueFrom`, `<secret ARN>:<JSON key>::`. Only references
 * travel through Terraform, its plans and its state; the values exist in this process alone, read
 * with the service's own role (IRSA), which may read its own secrets and nothing else.
 */

/** The variable holding the references. Its name does not look like a credential: it holds none. */
export const SECRET_REFERENCES_VARIABLE = "ENV_VALUE_FROM";

/** One variable read from one JSON key of one secret. */
export interface SecretReference {
  readonly variable: string;
  readonly secretArn: string;
  readonly key: string;
}

/** Reads the secret string of a secret by ARN; Secrets Manager in production, a map in tests. */
export type SecretStringReader = (secretArn: string) => Promise<string>;

const REFERENCE = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+):([^:]+)::$/;

/** The references in ENV_VALUE_FROM; none when it is unset. Fails naming the variable that is malformed. */
export function parseSecretReferences(env: NodeJS.ProcessEnv): SecretReference[] {
  const raw = env[SECRET_REFERENCES_VARIABLE];
  if (raw === undefined || raw.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(
      `${SECRET_REFERENCES_VARIABLE}: must be a JSON object of variable name to secret reference`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(
      `${SECRET_REFERENCES_VARIABLE}: must be a JSON object of variable name to secret reference`,
    );
  }
  return Object.entries(parsed).map(([variable, reference]) => {
    const match = typeof reference === "string" ? REFERENCE.exec(reference) : null;
    if (!match?.[1] || !match[2]) {
      throw new Error(
        `${SECRET_REFERENCES_VARIABLE}: ${variable} must be "<secret ARN>:<JSON key>::", got ${JSON.stringify(reference)}`,
      );
    }
    return { variable, secretArn: match[1], key: match[2] };
  });
}

/**
 * Sets every referenced variable in `env` from its secret, reading each secret once. A variable the
 * environment already sets keeps its value (local runs and tests set them directly). Error messages
 * name variables, secrets and keys, never values.
 */
export async function resolveSecretReferences(
  env: NodeJS.ProcessEnv,
  read: SecretStringReader = secretsManagerReader(env.AWS_REGION),
): Promise<void> {
  const references = parseSecretReferences(env).filter((r) => env[r.variable] === undefined);
  const secrets = new Map<string, Promise<Record<string, unknown>>>();
  const secretOf = (arn: string) => {
    let secret = secrets.get(arn);
    if (!secret) {
      secret = read(arn).then((text) => {
        try {
          return JSON.parse(text) as Record<string, unknown>;
        } catch {
          throw new Error(`secret ${arn} does not hold a JSON object`);
        }
      });
      secrets.set(arn, secret);
    }
    return secret;
  };
  for (const reference of references) {
    const value = (await secretOf(reference.secretArn))[reference.key];
    if (value === undefined || value === null || value === "") {
      throw new Error(
        `${SECRET_REFERENCES_VARIABLE}: ${reference.variable}: secret ${reference.secretArn} has no value under "${reference.key}"`,
      );
    }
    env[reference.variable] = String(value);
  }
}

/** Reads secrets with the AWS SDK and the process's role; the SDK loads only when there is something to read. */
function secretsManagerReader(region: string | undefined): SecretStringReader {
  let client: Promise<{ read: SecretStringReader }> | undefined;
  return async (secretArn) => {
    client ??= import("@aws-sdk/client-secrets-manager").then(
      ({ SecretsManagerClient, GetSecretValueCommand }) => {
        const sdk = new SecretsManagerClient(region ? { region } : {});
        return {
          read: async (arn: string) => {
            const result = await sdk.send(new GetSecretValueCommand({ SecretId: arn }));
            if (result.SecretString === undefined) throw new Error(`secret ${arn} has no string value`);
            return result.SecretString;
          },
        };
      },
    );
    return (await client).read(secretArn);
  };
}
