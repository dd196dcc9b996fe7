import { App } from "cdktf";
import { selectEnvironments } from "./environments";
import { buildStacks } from "./stacks/app";

// BLUEPRINT_ENVS=dev,prod synthesizes only those environments (all by default).
// BOOTSTRAP_BACKEND=s3 renders the bootstrap stacks with remote state, for the migration step.
const bootstrapBackend = process.env.BOOTSTRAP_BACKEND ?? "local";
if (bootstrapBackend !== "local" && bootstrapBackend !== "s3") {
  throw new Error(`BOOTSTRAP_BACKEND must be "local" or "s3", got "${bootstrapBackend}"`);
}
const app = buildStacks(new App(), selectEnvironments(process.env.BLUEPRINT_ENVS), { bootstrapBackend });
app.synth();
