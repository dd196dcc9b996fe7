import type { PolicyStatement } from "../iam/policy-document";

/**
 * What a collector needs to send spans to X-Ray. These actions have no resource-level permissions:
 * "*" is the only valid resource. The sampling reads let the exporter honour sampling rules set in
 * the console.
 */
export const PUBLISH_TRACES: PolicyStatement = {
  sid: "PublishTraces",
  effect: "Allow",
  actions: [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
  ],
  resources: ["*"],
};
