import type { PolicyStatement } from "../iam/policy-document";

/**
 * What the trace collectors may call on X-Ray. These actions have no resource-level permissions:
 * "*" is the only valid resource. The `awsxray` exporter calls PutTraceSegments, and
 * PutTelemetryRecords only with its `telemetry` option, which the configurations leave off; the
 * sampling reads serve an X-Ray remote sampler, and the services sample by ratio instead
 * (`OTEL_TRACES_SAMPLER`, decision 0053), so console sampling rules have no effect.
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
