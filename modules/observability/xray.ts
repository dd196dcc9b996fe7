import type { PolicyStatement } from "../iam/policy-document";

/**
 * What the trace collectors may call on X-Ray: only what the `awsxray` exporter calls.
 * PutTraceSegments has no resource-level permissions, so "*" is the only valid resource.
 * Not granted: PutTelemetryRecords (the exporter's `telemetry` option stays off) and the
 * sampling reads of an X-Ray remote sampler (the services sample by ratio, decision 0053).
 */
export const PUBLISH_TRACES: PolicyStatement = {
  sid: "PublishTraces",
  effect: "Allow",
  actions: ["xray:PutTraceSegments"],
  resources: ["*"],
};
