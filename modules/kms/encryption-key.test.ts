import { describe, expect, it } from "vitest";
import { onlyResource, synthesizer } from "../testing/synth";
import { EncryptionKey, type EncryptionKeyProps } from "./encryption-key";

const minimal: EncryptionKeyProps = {
  alias: "t",
  description: "test",
  accountId: "123456789012",
  region: "eu-west-1",
};
const build = synthesizer(EncryptionKey, "Key", minimal);

describe("EncryptionKey", () => {
  it("When built, then the key rotates yearly, waits 30 days before deletion and has an alias", () => {
    const stack = build();
    expect(onlyResource(stack, "aws_kms_key")).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
    });
    expect(onlyResource(stack, "aws_kms_alias")).toMatchObject({ name: "alias/t" });
  });

  it("When built, then the key policy names its actions and grants CloudWatch Logs only this account's log groups", () => {
    const policy = JSON.parse(
      String(onlyResource(build({ servicePrincipals: ["logs"] }), "aws_kms_key").policy),
    );
    const actions = policy.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions.some((a: string) => a.includes("*"))).toBe(false);
    expect(policy.Statement[1]).toMatchObject({
      Principal: { Service: "logs.eu-west-1.amazonaws.com" },
      Condition: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*" },
      },
    });
  });

  it("When further statements are given, then they follow the account's own in the key policy", () => {
    const publishers = {
      Sid: "Publishers",
      Effect: "Allow",
      Principal: { Service: "aps.amazonaws.com" },
      Action: ["kms:Decrypt"],
      Resource: "*",
    };
    const policy = JSON.parse(
      String(onlyResource(build({ additionalStatements: [publishers] }), "aws_kms_key").policy),
    );
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      "AccountAdministrationAndUse",
      "Publishers",
    ]);
  });

  it("When the deletion window is out of range, then it fails", () => {
    expect(() => build({ deletionWindowDays: 3 })).toThrow(
      "EncryptionKey t: deletionWindowDays must be 7 to 30, got 3",
    );
  });
});
