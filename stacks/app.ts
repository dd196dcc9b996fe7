import { CATALOG, type Catalog, validateCatalog } from "@blueprint/service-kit/catalog";
import type { App } from "cdktf";
import type { EnvironmentConfig } from "../environments";
import { BootstrapStack } from "./bootstrap-stack";
import { ComputeStack } from "./compute-stack";
import { DataStack } from "./data-stack";
import { EdgeStack } from "./edge-stack";
import { tokenVerification } from "./identity-stack";
import { MessagingStack } from "./messaging-stack";
import { NetworkStack } from "./network-stack";
import { ObservabilityStack } from "./observability-stack";
import { ServiceWiring } from "./service-wiring";
import { WorkloadsStack } from "./workloads-stack";

export interface BuildOptions {
  /** Backend of the bootstrap stacks: `local` for the first apply, `s3` after migrating. @default "local" */
  readonly bootstrapBackend?: "local" | "s3";
  /** The services and topics to deploy; checked before any stack is built. @default CATALOG */
  readonly catalog?: Catalog;
}

/** Adds every stack of each environment to `app`, wired by cross-stack references. */
export function buildStacks(
  app: App,
  environments: readonly EnvironmentConfig[],
  options: BuildOptions = {},
): App {
  const catalog = options.catalog ?? CATALOG;
  validateCatalog(catalog);
  for (const env of environments) {
    new BootstrapStack(app, { env, backend: options.bootstrapBackend ?? "local" });
    const wiring = new ServiceWiring(catalog, env, tokenVerification(app, env));
    const network = new NetworkStack(app, { env, wiring });
    const layers = {
      network,
      data: new DataStack(app, { env, network, wiring }),
      messaging: new MessagingStack(app, { env, network, catalog }),
      edge: new EdgeStack(app, { env, network, wiring }),
    };
    const compute = new ComputeStack(app, { env, wiring, layers });
    if (env.compute.kind === "eks") new WorkloadsStack(app, { env, compute });
    new ObservabilityStack(app, { env, compute });
  }
  return app;
}
