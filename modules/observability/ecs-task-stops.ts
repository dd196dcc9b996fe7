import { CloudwatchContributorInsightRule } from "@cdktf/provider-aws/lib/cloudwatch-contributor-insight-rule";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { runbookUrl } from "../../dashboards/src/alerts";
import { assertLogRetention } from "../workload/limits";
import { pascalCase } from "../workload/workload";

/** Why ECS stopped a task when it crashed, not when a deployment, scale-in or person stopped it. */
export const CRASH_STOP_CODES = ["EssentialContainerExited", "TaskFailedToStart"] as const;

/**
 * How the stop reason of a task failing its load balancer or container health check begins; ECS's
 * scheduler stops those (`ServiceSchedulerInitiated`, like a deployment or scale-in does).
 */
export const HEALTH_CHECK_FAILURE_REASON = "Task failed";

/** The Contributor Insights statistic an alarm reads: distinct task ARNs per period. */
export const DISTINCT_TASKS = "UniqueContributors";

export interface EcsTaskStopsProps {
  /** Prefix of resource names, e.g. `blueprint-dev`. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly clusterArn: string;
  /** ECS service names; each gets a crash-loop alarm. */
  readonly services: readonly string[];
  /** Where a crash loop goes: the `ticket` topic, like ServiceRestarting. */
  readonly ticketTopicArn: string;
  readonly logRetentionDays: number;
  readonly logKmsKeyArn: string;
  /**
   * Crashes of one service within the window that open a ticket.
   * @default 3 (more than twice, as ServiceRestarting)
   */
  readonly crashesToAlarm?: number;
  /** @default 900 (15 minutes, as ServiceRestarting) */
  readonly windowSeconds?: number;
}

/**
 * Counts crashed ECS tasks. ECS replaces a task whose essential container exited, or which failed
 * its health checks, with a new task at a new address, which Prometheus sees as a new target, never
 * as a restart. EventBridge's "ECS Task State Change" events of the cluster's tasks stopped that way
 * go to a log group (each with its stop reason and exit codes, for the runbook). Events can arrive
 * more than once, so a Contributor Insights rule per service counts distinct task ARNs, and an alarm
 * per service opens a ticket on a crash loop.
 */
export class EcsTaskStops extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly rule: CloudwatchEventRule;
  /** Distinct crashed tasks by ECS service name. */
  readonly taskCounts: Readonly<Record<string, CloudwatchContributorInsightRule>>;
  /** Crash-loop alarms by ECS service name. */
  readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;

  constructor(scope: Construct, id: string, props: EcsTaskStopsProps) {
    super(scope, id);
    const crashesToAlarm = props.crashesToAlarm ?? 3;
    const windowSeconds = props.windowSeconds ?? 900;
    const owner = `EcsTaskStops ${props.namePrefix}`;
    assertLogRetention(owner, props.logRetentionDays);
    if (!Number.isInteger(crashesToAlarm) || crashesToAlarm < 1) {
      throw new Error(`${owner}: crashesToAlarm must be a whole number of at least 1, got ${crashesToAlarm}`);
    }
    if (!Number.isInteger(windowSeconds / 60) || windowSeconds < 60) {
      throw new Error(`${owner}: windowSeconds must be a whole number of minutes, got ${windowSeconds}`);
    }

    // EventBridge writes only to log groups named /aws/events/...
    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: `/aws/events/${props.namePrefix}-ecs-task-crashes`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });
    this.rule = new CloudwatchEventRule(this, "Rule", {
      name: `${props.namePrefix}-ecs-task-crashes`,
      description:
        "ECS tasks of the services' cluster stopped because a container crashed, failed to start or failed its health checks",
      eventPattern: JSON.stringify({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [props.clusterArn],
          lastStatus: ["STOPPED"],
          $or: [
            { stopCode: [...CRASH_STOP_CODES] },
            {
              stopCode: ["ServiceSchedulerInitiated"],
              stoppedReason: [{ prefix: HEALTH_CHECK_FAILURE_REASON }],
            },
          ],
        },
      }),
    });
    // EventBridge delivers through the log group's resource policy; only this rule may write.
    const writers = new CloudwatchLogResourcePolicy(this, "EventsWrite", {
      policyName: `${props.namePrefix}-ecs-task-crashes`,
      policyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EventBridgeWrites",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: `${this.logGroup.arn}:*`,
            Condition: {
              ArnEquals: { "aws:SourceArn": this.rule.arn },
              StringEquals: { "aws:SourceAccount": props.accountId },
            },
          },
        ],
      }),
    });
    new CloudwatchEventTarget(this, "ToLogGroup", {
      rule: this.rule.name,
      arn: this.logGroup.arn,
      dependsOn: [writers],
    });
    const taskCounts: Record<string, CloudwatchContributorInsightRule> = {};
    const alarms: Record<string, CloudwatchMetricAlarm> = {};
    for (const service of props.services) {
      const id = pascalCase(service);
      const counted = new CloudwatchContributorInsightRule(this, `${id}CrashedTasks`, {
        ruleName: `${props.namePrefix}-${service}-crashed-tasks`,
        ruleState: "ENABLED",
        ruleDefinition: JSON.stringify({
          Schema: { Name: "CloudWatchLogRule", Version: 1 },
          LogGroupNames: [this.logGroup.name],
          LogFormat: "JSON",
          Contribution: {
            // One contributor per task, however many events ECS sent about its stop.
            Keys: ["$.detail.taskArn"],
            // `group` is `service:<name>` for a service's tasks.
            Filters: [{ Match: "$.detail.group", In: [`service:${service}`] }],
          },
          AggregateOn: "Count",
        }),
      });
      taskCounts[service] = counted;
      alarms[service] = new CloudwatchMetricAlarm(this, `${id}CrashLoop`, {
        alarmName: `${props.namePrefix}-${service}-task-crash-loop`,
        alarmDescription: `${crashesToAlarm} or more ${service} tasks crashed within ${windowSeconds / 60} minutes. Runbook: ${runbookUrl({ name: "ServiceRestarting" })}`,
        metricQuery: [
          {
            id: "tasks",
            expression: `INSIGHT_RULE_METRIC('${counted.ruleName}', '${DISTINCT_TASKS}')`,
            label: `Crashed ${service} tasks`,
            period: windowSeconds,
            returnData: true,
          },
        ],
        evaluationPeriods: 1,
        threshold: crashesToAlarm,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        // No crash reports no data.
        treatMissingData: "notBreaching",
        alarmActions: [props.ticketTopicArn],
        okActions: [props.ticketTopicArn],
      });
    }
    this.taskCounts = taskCounts;
    this.alarms = alarms;
  }
}
