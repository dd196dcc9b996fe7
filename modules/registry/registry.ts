import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Construct } from "constructs";
import { ByName } from "../workload/by-name";

export interface RegistryProps {
  /** Repository names are `<prefix>/<service>`. @default "blueprint" */
  readonly prefix?: string;
  readonly services: readonly string[];
  /** KMS key encrypting images at rest. */
  readonly kmsKeyArn: string;
  /** Tagged images kept per repository; older ones expire. @default 30 */
  readonly keepTaggedImages?: number;
  /** Days before an untagged image expires. @default 7 */
  readonly untaggedExpiryDays?: number;
}

/** One ECR repository per service: scan on push, immutable tags, KMS encryption, a lifecycle policy. */
export class Registry extends Construct {
  private readonly byName: ByName<EcrRepository>;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const prefix = props.prefix ?? "blueprint";
    this.byName = new ByName(`Registry ${prefix}`, "repository for service");
    const keepTaggedImages = props.keepTaggedImages ?? 30;
    const untaggedExpiryDays = props.untaggedExpiryDays ?? 7;
    if (keepTaggedImages < 1)
      throw new Error(`Registry: keepTaggedImages must be at least 1, got ${keepTaggedImages}`);
    if (untaggedExpiryDays < 1)
      throw new Error(`Registry: untaggedExpiryDays must be at least 1, got ${untaggedExpiryDays}`);
    if (props.services.length === 0) throw new Error("Registry: services must not be empty");

    const addRepository = (service: string) => {
      const repository = new EcrRepository(this, `Repository-${service}`, {
        name: `${prefix}/${service}`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.kmsKeyArn }],
        forceDelete: false,
      });
      new EcrLifecyclePolicy(this, `Lifecycle-${service}`, {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `Expire untagged images after ${untaggedExpiryDays} days`,
              selection: {
                tagStatus: "untagged",
                countType: "sinceImagePushed",
                countUnit: "days",
                countNumber: untaggedExpiryDays,
              },
              action: { type: "expire" },
            },
            {
              rulePriority: 2,
              description: `Keep the last ${keepTaggedImages} tagged images`,
              selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepTaggedImages },
              action: { type: "expire" },
            },
          ],
        }),
      });
      return repository;
    };
    for (const service of props.services) this.byName.add(service, () => addRepository(service));
  }

  /** The repository of the service named `name`; throws naming the known ones when there is none. */
  repository(name: string): EcrRepository {
    return this.byName.get(name);
  }

  /** Every repository, in service order. */
  allRepositories(): EcrRepository[] {
    return this.byName.values();
  }
}
