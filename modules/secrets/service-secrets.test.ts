import { describe, expect, it } from "vitest";
import { resourcesOf, synthesizer } from "../testing/synth";
import { ServiceSecrets, type ServiceSecretsProps } from "./service-secrets";

const minimal: ServiceSecretsProps = {
  prefix: "blueprint/dev",
  kmsKeyArn: "arn:kms",
  secrets: [{ name: "user-service/database", description: "db" }],
};
const build = synthesizer(ServiceSecrets, "Secrets", minimal);

describe("ServiceSecrets", () => {
  it("When built, then each secret is KMS-encrypted, recoverable for 30 days, and has no value in Terraform", () => {
    const stack = build();
    expect(resourcesOf(stack, "aws_secretsmanager_secret")).toEqual([
      expect.objectContaining({
        name: "blueprint/dev/user-service/database",
        kms_key_id: "arn:kms",
        recovery_window_in_days: 30,
      }),
    ]);
    expect(resourcesOf(stack, "aws_secretsmanager_secret_version")).toEqual([]);
  });

  it.each([
    [{ recoveryWindowDays: 3 }, "ServiceSecrets: recoveryWindowDays must be 0 or 7 to 30, got 3"],
    [
      { secrets: [minimal.secrets[0], minimal.secrets[0]] as ServiceSecretsProps["secrets"] },
      'ServiceSecrets blueprint/dev: secret "user-service/database" is defined twice',
    ],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
