import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
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
  /** KMS key of the alert topics; AMP may use it. */
  readonly kmsKeyArn: string;
  /** Where the alarm goes when the heartbeat stops: the on-call `page` topic. */
  readonly pageTopicArn: string;
  /**
   * How often the alert manager resends the watchdog (its route's `repeat_interval`).
   */
  readonly heartbeatIntervalSeconds: number;
  /**
   * Five-minute periods without a heartbeat before the alarm pages. The window must hold at least
   * two heartbeats, so one late delivery never pages.
   * @default 3 (15 minutes)
   */
  readonly silentPeriods?: number;
}

/**
 * The AWS side of the watchdog: AMP's alert manager publishes the always-firing `Watchdog` alert
 * to a topic of its own, and a CloudWatch alarm pages when that topic has received nothing for
 * the window (missing data counts as silence). CloudWatch and the page topic do not depend on AMP,
 * so the alarm still pages when rule evaluation, the alert manager or its SNS delivery stops.
 */
export class DeadMansSwitch extends Construct {
  /** The topic the alert manager's `dead-mans-switch` receiver publishes to. */
  readonly topic: SnsTopic;
  readonly alarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: DeadMansSwitchProps) {
    super(scope, id);
    const silentPeriods = props.silentPeriods ?? 3;
    const windowSeconds = silentPeriods * SNS_METRIC_PERIOD_SECONDS;
    if (!Number.isInteger(silentPeriods) || silentPeriods < 1) {
      throw new Error(
        `DeadMansSwitch ${props.namePrefix}: silentPeriods must be a whole number of at least 1, got ${silentPeriods}`,
      );
    }
    if (!(props.heartbeatIntervalSeconds > 0) || 2 * props.heartbeatIntervalSeconds > windowSeconds) {
      throw new Error(
        `DeadMansSwitch ${props.namePrefix}: the ${windowSeconds} s window must hold two heartbeats, got one every ${props.heartbeatIntervalSeconds} s; resend the watchdog more often or raise silentPeriods`,
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
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
        },
      ]).json,
    });
    this.alarm = new CloudwatchMetricAlarm(this, "Silent", {
      alarmName: `${props.namePrefix}-watchdog-silent`,
      alarmDescription: `No Watchdog heartbeat from the AMP alert manager: no alert can reach anyone. Runbook: ${runbookUrl({ name: WATCHDOG_SILENT })}`,
      namespace: "AWS/SNS",
      metricName: "NumberOfMessagesPublished",
      dimensions: { TopicName: this.topic.name },
      statistic: "Sum",
      period: SNS_METRIC_PERIOD_SECONDS,
      evaluationPeriods: silentPeriods,
      datapointsToAlarm: silentPeriods,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      // A topic nobody publishes to reports no data at all: that is the silence this alarm is for.
      treatMissingData: "breaching",
      alarmActions: [props.pageTopicArn],
      okActions: [props.pageTopicArn],
    });
  }
}
