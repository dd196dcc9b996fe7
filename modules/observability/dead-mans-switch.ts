import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { dependable, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { runbookUrl } from "../../dashboards/src/alerts";
import { policyDocument } from "../iam/policy-document";

/** Name of the alarm's runbook (`docs/runbooks/watchdog-silent.md`), as an alert's would be. */
export const WATCHDOG_SILENT = "WatchdogSilent";

/** SNS reports its topic metrics to CloudWatch every five minutes: the finest period an alarm can use. */
export const SNS_METRIC_PERIOD_SECONDS = 300;

export interface DeadMansSwitchProps {
  /** Prefix of the topic and alarm names, e.g. `blueprint-prod`. */
  readonly namePrefix: string;
  readonly accountId: string;
  /** The AMP workspace whose alert manager keeps the switch alive; no other may publish to the topic. */
  readonly workspaceArn: string;
  /** KMS key of the alert topics; AMP may use it. */
  readonly kmsKeyArn: string;
  /** Where the alarm goes when the heartbeat stops: the on-call `page` topic. */
  readonly pageTopicArn: string;
  /**
   * The longest gap between two watchdog notifications of the alert manager. Every five-minute
   * period must hold at least two, so one lost delivery never leaves a period empty.
   */
  readonly heartbeatIntervalSeconds: number;
  /**
   * Empty five-minute periods that page. They are counted among one more period than this: SNS
   * reports each period up to five minutes late, so the newest is often empty while it is healthy.
   * @default 3 (of the last 4 periods: pages 15 to 20 minutes into a silence)
   */
  readonly silentPeriods?: number;
}

/**
 * The AWS side of the watchdog: AMP's alert manager publishes the always-firing `Watchdog` alert
 * to a topic of its own, about every minute, and a CloudWatch alarm pages when three of the last
 * four five-minute periods held no message. CloudWatch and the page topic do not depend on AMP, so
 * the alarm still pages when rule evaluation, the alert manager or its SNS delivery stops. At the
 * first apply the topic has no history, so the alarm pages once and clears within 15 minutes of the
 * first heartbeat (docs/first-apply.md).
 */
export class DeadMansSwitch extends Construct {
  /** The topic the alert manager's `dead-mans-switch` receiver publishes to. */
  readonly topic: SnsTopic;
  readonly alarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: DeadMansSwitchProps) {
    super(scope, id);
    const silentPeriods = props.silentPeriods ?? 3;
    if (!Number.isInteger(silentPeriods) || silentPeriods < 1) {
      throw new Error(
        `DeadMansSwitch ${props.namePrefix}: silentPeriods must be a whole number of at least 1, got ${silentPeriods}`,
      );
    }
    if (
      !(props.heartbeatIntervalSeconds > 0) ||
      2 * props.heartbeatIntervalSeconds > SNS_METRIC_PERIOD_SECONDS
    ) {
      throw new Error(
        `DeadMansSwitch ${props.namePrefix}: each ${SNS_METRIC_PERIOD_SECONDS} s period must hold two heartbeats, got one every ${props.heartbeatIntervalSeconds} s; resend the watchdog more often`,
      );
    }
    this.topic = new SnsTopic(this, "Topic", {
      name: `${props.namePrefix}-alerts-watchdog`,
      kmsMasterKeyId: props.kmsKeyArn,
    });
    new SnsTopicPolicy(this, "TopicPolicy", {
      arn: this.topic.arn,
      policy: policyDocument(this, "TopicPolicyDocument", [
        {
          sid: "AlertManagerPublishes",
          effect: "Allow",
          principals: [{ type: "Service", identifiers: ["aps.amazonaws.com"] }],
          actions: ["sns:Publish", "sns:GetTopicAttributes"],
          resources: [this.topic.arn],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] },
            // Only this environment's workspace keeps its switch alive.
            { test: "ArnEquals", variable: "aws:SourceArn", values: [props.workspaceArn] },
          ],
        },
      ]).json,
    });
    this.alarm = new CloudwatchMetricAlarm(this, "Silent", {
      alarmName: `${props.namePrefix}-watchdog-silent`,
      alarmDescription: `No Watchdog heartbeat from the AMP alert manager: no alert can reach anyone. Runbook: ${runbookUrl({ name: WATCHDOG_SILENT })}`,
      metricQuery: [
        {
          id: "published",
          metric: {
            namespace: "AWS/SNS",
            metricName: "NumberOfMessagesPublished",
            dimensions: { TopicName: this.topic.name },
            stat: "Sum",
            period: SNS_METRIC_PERIOD_SECONDS,
          },
          returnData: false,
        },
        {
          // A period SNS reported nothing for held no message: zero, not a gap the alarm skips.
          id: "heartbeats",
          expression: "FILL(published, 0)",
          label: "Watchdog notifications",
          returnData: true,
        },
      ],
      evaluationPeriods: silentPeriods + 1,
      datapointsToAlarm: silentPeriods,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      // A window without a single message has nothing to fill: that silence pages too.
      treatMissingData: "breaching",
      alarmActions: [props.pageTopicArn],
      okActions: [props.pageTopicArn],
    });
  }

  /**
   * Creates the alarm only after what delivers the watchdog (the alert manager definition, the
   * rule namespaces), so it never watches a topic nothing has been told to publish to.
   */
  dependOn(...deliverers: ITerraformDependable[]): void {
    this.alarm.dependsOn = [...(this.alarm.dependsOn ?? []), ...deliverers.map(dependable)];
  }
}
