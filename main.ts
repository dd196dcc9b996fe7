import { App } from "cdktf";
import { selectEnvironments } from "./environments";
import { buildStacks } from "./stacks/app";

// BLUEPRINT_ENVS=dev,prod synthesizes only those environments; all of them by default.
const app = buildStacks(new App(), selectEnvironments(process.env.BLUEPRINT_ENVS));
app.synth();
