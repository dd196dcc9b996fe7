import type { App } from "cdktf";
import type { EnvironmentConfig } from "../environments";
import { BootstrapStack } from "./bootstrap-stack";
import { ComputeStack } from "./compute-stack";
import { DataStack } from "./data-stack";
import { EdgeStack } from "./edge-stack";
import { MessagingStack } from "./messaging-stack";
import { NetworkStack } from "./network-stack";
import { ObservabilityStack } from "./observability-stack";
import { WorkloadsStack } from "./workloads-stack";

export interface BuildOptions {
  /** Backend of the bootstrap stacks: `local` for the first apply, `s3` after migrating. @default "local" */
  readonly bootstrapBackend?: "local" | "s3";
}

/** Adds every stack of each environment to `app`, wired by cross-stack references. */
export function buildStacks(
  app: App,
  environments: readonly EnvironmentConfig[],
  options: BuildOptions = {},
): App {
  for (const env of environments) {
    new BootstrapStack(app, env, options.bootstrapBackend ?? "local");
    const network = new NetworkStack(app, env);
    const layers = {
      network,
      data: new DataStack(app, env, network),
      messaging: new MessagingStack(app, env, network),
      edge: new EdgeStack(app, env, network),
    };
    const compute = new ComputeStack(app, env, layers);
    if (env.compute.kind === "eks") new WorkloadsStack(app, env, compute, layers);
    new ObservabilityStack(app, env, layers, compute);
  }
  return app;
}
