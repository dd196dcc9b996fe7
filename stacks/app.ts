import type { App } from "cdktf";
import type { EnvironmentConfig } from "../environments";
import { NetworkStack } from "./network-stack";

/** Adds every stack of each environment to `app`. */
export function buildStacks(app: App, environments: readonly EnvironmentConfig[]): App {
  for (const env of environments) {
    new NetworkStack(app, env);
  }
  return app;
}
