import { describe, expect, it } from "@jest/globals";
import { parseSecretReferences, resolveSecretReferences } from "../src/secret-references";

const ARN =
  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:blueprint/prod/user-service/database-AbCdEf";
const SMTP =
  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:blueprint/prod/notification-service/smtp-XyZ123";

/** A reader over fixed secrets that counts reads per ARN. */
function fakeSecrets(secrets: Record<string, unknown>) {
  const reads: string[] = [];
  const read = async (arn: string) => {
    reads.push(arn);
    if (!(arn in secrets)) throw new Error(`no secret ${arn}`);
    const value = secrets[arn];
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  return { read, reads };
}

describe("secrets read at start (ENV_VALUE_FROM)", () => {
  it("When the platform passes references, then each variable gets its key and each secret is read once", async () => {
    const env: NodeJS.ProcessEnv = {
      ENV_VALUE_FROM: JSON.stringify({
        PGUSER: `${ARN}:username::`,
        PGPASSWORD: `${ARN}:password::`,
        SMTP_PORT: `${SMTP}:port::`,
      }),
    };
    const secrets = fakeSecrets({
      [ARN]: { username: "user_service", password: "s3cret" },
      [SMTP]: { port: 587 },
    });
    await resolveSecretReferences(env, secrets.read);
    expect(env).toMatchObject({ PGUSER: "user_service", PGPASSWORD: "s3cret", SMTP_PORT: "587" });
    expect(secrets.reads).toEqual([ARN, SMTP]);
  });

  it("When no references are set (ECS, local runs), then nothing is read", async () => {
    const env: NodeJS.ProcessEnv = { PGPASSWORD: "local" };
    const secrets = fakeSecrets({});
    await resolveSecretReferences(env, secrets.read);
    expect(env).toEqual({ PGPASSWORD: "local" });
    expect(secrets.reads).toEqual([]);
  });

  it("When a variable is already set, then it keeps its value and its secret is not read", async () => {
    const env: NodeJS.ProcessEnv = {
      PGPASSWORD: "given",
      ENV_VALUE_FROM: JSON.stringify({ PGPASSWORD: `${ARN}:password::` }),
    };
    const secrets = fakeSecrets({});
    await resolveSecretReferences(env, secrets.read);
    expect(env.PGPASSWORD).toBe("given");
    expect(secrets.reads).toEqual([]);
  });

  it("When the secret lacks the key, then start-up fails naming variable, secret and key but no value", async () => {
    const env: NodeJS.ProcessEnv = { ENV_VALUE_FROM: JSON.stringify({ PGPASSWORD: `${ARN}:password::` }) };
    const secrets = fakeSecrets({ [ARN]: { username: "user_service", pasword: "s3cret" } });
    const failure = resolveSecretReferences(env, secrets.read);
    await expect(failure).rejects.toThrow(
      `ENV_VALUE_FROM: PGPASSWORD: secret ${ARN} has no value under "password"`,
    );
    await failure.catch((error: Error) => expect(error.message).not.toContain("s3cret"));
  });

  it.each([
    [
      "not JSON",
      "PGPASSWORD=x",
      "ENV_VALUE_FROM: must be a JSON object of variable name to secret reference",
    ],
    ["a list", "[]", "ENV_VALUE_FROM: must be a JSON object of variable name to secret reference"],
    [
      "a reference without its JSON key",
      JSON.stringify({ PGPASSWORD: ARN }),
      `ENV_VALUE_FROM: PGPASSWORD must be "<secret ARN>:<JSON key>::", got "${ARN}"`,
    ],
  ])("When ENV_VALUE_FROM is %s, then it fails saying what is expected", (_case, raw, message) => {
    expect(() => parseSecretReferences({ ENV_VALUE_FROM: raw })).toThrow(message);
  });
});
