import { describe, expect, it } from "vitest";
import { resourcesOf, synthesizer } from "../testing/synth";
import { Registry, type RegistryProps } from "./registry";

const minimal: RegistryProps = { services: ["user-service", "order-service"], kmsKeyArn: "arn:kms" };
const build = synthesizer(Registry, "Registry", minimal);

describe("Registry", () => {
  it("When built, then each service gets an immutable, scanned, KMS-encrypted repository", () => {
    const repos = resourcesOf(build(), "aws_ecr_repository");
    expect(repos.map((r) => r.name).sort()).toEqual(["blueprint/order-service", "blueprint/user-service"]);
    for (const repo of repos) {
      expect(repo).toMatchObject({
        image_tag_mutability: "IMMUTABLE",
        image_scanning_configuration: { scan_on_push: true },
        encryption_configuration: [{ encryption_type: "KMS", kms_key: "arn:kms" }],
      });
    }
  });

  it("When built with defaults, then untagged images expire after 7 days and 30 tagged images are kept", () => {
    const [policy] = resourcesOf(build(), "aws_ecr_lifecycle_policy");
    const rules = JSON.parse(String(policy?.policy)).rules;
    expect(rules.map((r: { selection: unknown }) => r.selection)).toEqual([
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 },
    ]);
  });

  it.each([
    [{ keepTaggedImages: 0 }, "Registry: keepTaggedImages must be at least 1, got 0"],
    [{ untaggedExpiryDays: 0 }, "Registry: untaggedExpiryDays must be at least 1, got 0"],
    [{ services: [] }, "Registry: services must not be empty"],
  ])("When built with %o, then it fails with %s", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
