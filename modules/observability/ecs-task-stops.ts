import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { runbookUrl } from "../../dashboards/src/alerts";
import { assertLogRetention } from "../workload/limits";
import { pascalCase } from "../workload/workload";

/** Why ECS stopped a task when it crashed, not when a deployment, scale-in or person stopped it. */
export const CRASH_STOP_CODES = ["EssentialContainerExited", "TaskFailedToStart"] as const;

/** Namespace and name of the crash count, per ECS service (`ServiceName` dimension). */
export const TASK_CRASH_METRIC = { namespace: "Blueprint/ECS", name: "TaskCrashes" } as const;

export interface EcsTaskStopsProps {
  /** Prefix of resource names, e.g. `blueprint-dev`. */
  readonly namePrefix: string;
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
 * Counts crashed ECS tasks. ECS replaces a task whose essential container exited with a new task at
 * a new address, which Prometheus sees as a new target, never as a restart. EventBridge's
 * "ECS Task State Change" events of the cluster's tasks stopped with a crash code go to a log group
 * (each with its stop reason and exit codes, for the runbook), a metric filter counts them per
 * service, and an alarm per service opens a ticket on a crash loop.
 */
export class EcsTaskStops extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly rule: CloudwatchEventRule;
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
    new CloudwatchLogResourcePolicy(this, "EventsWrite", {
      policyName: `${props.namePrefix}-ecs-task-crashes`,
      policyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EventBridgeWrites",
            Effect: "Allow",
            Principal: { Service: ["events.amazonaws.com", "delivery.logs.amazonaws.com"] },
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: `${this.logGroup.arn}:*`,
          },
        ],
      }),
    });
    this.rule = new CloudwatchEventRule(this, "Rule", {
      name: `${props.namePrefix}-ecs-task-crashes`,
      description:
        "ECS tasks of the services' cluster stopped because a container crashed or failed to start",
      eventPattern: JSON.stringify({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [props.clusterArn],
          lastStatus: ["STOPPED"],
          stopCode: [...CRASH_STOP_CODES],
        },
      }),
    });
    new CloudwatchEventTarget(this, "ToLogGroup", { rule: this.rule.name, arn: this.logGroup.arn });
    new CloudwatchLogMetricFilter(this, "Count", {
      name: `${props.namePrefix}-ecs-task-crashes`,
      logGroupName: this.logGroup.name,
      pattern: '{ $.detail.lastStatus = "STOPPED" }',
      metricTransformation: {
        namespace: TASK_CRASH_METRIC.namespace,
        name: TASK_CRASH_METRIC.name,
        value: "1",
        unit: "Count",
        // `group` is `service:<name>` for a service's tasks.
        dimensions: { ServiceName: "$.detail.group" },
      },
    });
    const alarms: Record<string, CloudwatchMetricAlarm> = {};
    for (const service of props.services) {
      alarms[service] = new CloudwatchMetricAlarm(this, `${pascalCase(service)}CrashLoop`, {
        alarmName: `${props.namePrefix}-${service}-task-crash-loop`,
        alarmDescription: `${service} tasks crashed ${crashesToAlarm} times or more within ${windowSeconds / 60} minutes. Runbook: ${runbookUrl({ name: "ServiceRestarting" })}`,
        namespace: TASK_CRASH_METRIC.namespace,
        metricName: TASK_CRASH_METRIC.name,
        dimensions: { ServiceName: `service:${service}` },
        statistic: "Sum",
        period: windowSeconds,
        evaluationPeriods: 1,
        threshold: crashesToAlarm,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        // No crash reports no data.
        treatMissingData: "notBreaching",
        alarmActions: [props.ticketTopicArn],
        okActions: [props.ticketTopicArn],
      });
    }
    this.alarms = alarms;
  }
}
