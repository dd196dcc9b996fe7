import { Construct } from "constructs";
import { ByName } from "./by-name";
import { INITIAL_IMAGE_TAG, pascalCase, validateWorkload, type WorkloadDefinition } from "./workload";

export interface ServiceConstructProps {
  readonly workload: WorkloadDefinition;
  /** Owner of the set the service belongs to, e.g. `EcsServices blueprint-dev`; error messages name it. */
  readonly setOwner: string;
  /** Prop holding the secret variables (`secrets` on ECS, `secretReferences` on Kubernetes), for error messages. */
  readonly secretsKey: string;
  /** Names of the secret variables. */
  readonly secretNames: readonly string[];
}

/**
 * Base of the objects one service gets on a compute platform. Its construct id is the PascalCase
 * service name, so resource addresses follow the service; the workload is checked before any
 * resource is created.
 */
export abstract class ServiceConstruct extends Construct {
  /** Prefix of error messages, e.g. `EcsServices blueprint-dev service user-service`. */
  protected readonly owner: string;
  /** Image of the first rollout; the delivery pipeline sets every later one. */
  protected readonly initialImage: string;

  protected constructor(scope: Construct, props: ServiceConstructProps) {
    const { workload } = props;
    super(scope, pascalCase(workload.name));
    this.owner = `${props.setOwner} service ${workload.name}`;
    validateWorkload(this.owner, workload, props.secretsKey, props.secretNames);
    this.initialImage = `${workload.repositoryUrl}:${workload.initialImageTag ?? INITIAL_IMAGE_TAG}`;
  }
}

/** Base of the constructs holding one `ServiceConstruct` per service, looked up by service name. */
export abstract class ServiceSet<T extends ServiceConstruct> extends Construct {
  private readonly byName: ByName<T>;

  /** `owner` prefixes error messages, e.g. `EcsServices blueprint-dev`. */
  protected constructor(scope: Construct, id: string, owner: string) {
    super(scope, id);
    this.byName = new ByName(owner, "service");
  }

  /** Creates and keeps the objects of one service; a name given twice throws. */
  protected addService(name: string, create: () => T): void {
    this.byName.add(name, create);
  }

  /** The objects of the service named `name`; throws naming the known ones when there is none. */
  service(name: string): T {
    return this.byName.get(name);
  }

  /** Every service, in definition order. */
  allServices(): T[] {
    return this.byName.values();
  }
}
