import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { pascalCase } from "../workload/workload";

export interface AlbAlarmsProps {
  /** ARN suffix of the load balancer (`app/<name>/<id>`). */
  readonly loadBalancerArnSuffix: string;
  /**
   * Target group ARN suffix (`targetgroup/<name>/<id>`) per service; each gets a no-healthy-target alarm.
   * @default none
   */
  readonly targetGroupArnSuffixes?: Readonly<Record<string, string>>;
  /**
   * 5xx the load balancer itself returns (no target, timeouts) per minute before it alarms.
   * @default 10
   */
  readonly elb5xxPerMinute?: number;
  /**
   * Share of requests the targets answer with 5xx, the same bound as the ServiceHighErrorRate alert.
   * @default 0.05
   */
  readonly target5xxRatio?: number;
}

export interface DatabaseAlarmsProps {
  /** RDS instance identifier (`DBInstanceIdentifier`). */
  readonly instanceIdentifier: string;
  /** @default 80 */
  readonly cpuPercent?: number;
  /** @default 5 GiB */
  readonly freeStorageBytes?: number;
  /** @default 256 MiB */
  readonly freeableMemoryBytes?: number;
}

export interface KafkaAlarmsProps {
  /** MSK cluster name (`Cluster Name` dimension). */
  readonly clusterName: string;
  /** Broker count; broker ids run from 1, one disk alarm each. */
  readonly brokerCount: number;
  /** @default 85 */
  readonly diskUsedPercent?: number;
}

export interface PlatformAlarmsProps {
  /** Prefix of the alarm names, e.g. `blueprint-prod`. */
  readonly namePrefix: string;
  /** SNS topic of alarms that page (`Observability.alertTopics.page.arn`). */
  readonly pageTopicArn: string;
  /** SNS topic of alarms that open a ticket (`Observability.alertTopics.ticket.arn`). */
  readonly ticketTopicArn: string;
  /** @default no load balancer alarms */
  readonly alb?: AlbAlarmsProps;
  /** @default no database alarms */
  readonly database?: DatabaseAlarmsProps;
  /** @default no Kafka alarms */
  readonly kafka?: KafkaAlarmsProps;
}

type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, "alarmName" | "alarmActions" | "okActions"> & {
  readonly severity: "page" | "ticket";
};

/**
 * CloudWatch alarms on what AWS measures, a second line that still works when the metrics
 * pipeline (collectors, AMP) does not: load balancer 5xx and healthy targets, RDS CPU, storage and
 * memory, MSK controller, offline partitions and broker disks. Alarms that mean users are failing
 * page; capacity trends open tickets.
 */
export class PlatformAlarms extends Construct {
  /** Alarms by name. */
  readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps) {
    super(scope, id);
    const alarms: Record<string, CloudwatchMetricAlarm> = {};
    const add = (suffix: string, spec: AlarmSpec) => {
      const { severity, ...config } = spec;
      const topic = severity === "page" ? props.pageTopicArn : props.ticketTopicArn;
      const name = `${props.namePrefix}-${suffix}`;
      alarms[name] = new CloudwatchMetricAlarm(this, pascalCase(suffix), {
        ...config,
        alarmName: name,
        alarmActions: [topic],
        okActions: [topic],
      });
    };

    if (props.alb) {
      const alb = props.alb;
      const elb5xxPerMinute = alb.elb5xxPerMinute ?? 10;
      const target5xxRatio = alb.target5xxRatio ?? 0.05;
      if (!(target5xxRatio > 0 && target5xxRatio < 1)) {
        throw new Error(
          `PlatformAlarms ${props.namePrefix}: alb.target5xxRatio must be between 0 and 1, got ${target5xxRatio}`,
        );
      }
      const lb = { LoadBalancer: alb.loadBalancerArnSuffix };
      add("alb-elb-5xx", {
        severity: "page",
        alarmDescription: "The load balancer itself answers 5xx (no healthy target, timeouts).",
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_ELB_5XX_Count",
        dimensions: lb,
        statistic: "Sum",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        threshold: elb5xxPerMinute,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      const metric = (metricName: string) => ({
        namespace: "AWS/ApplicationELB",
        metricName,
        dimensions: lb,
        period: 60,
        stat: "Sum",
      });
      add("alb-target-5xx-ratio", {
        severity: "page",
        alarmDescription: `More than ${target5xxRatio * 100}% of requests answered 5xx by the services, for 5 minutes.`,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        threshold: target5xxRatio,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        metricQuery: [
          { id: "errors", metric: metric("HTTPCode_Target_5XX_Count"), returnData: false },
          { id: "requests", metric: metric("RequestCount"), returnData: false },
          {
            id: "ratio",
            expression: "IF(requests > 0, errors / requests, 0)",
            label: "5xx ratio",
            returnData: true,
          },
        ],
      });
      for (const [service, targetGroup] of Object.entries(alb.targetGroupArnSuffixes ?? {})) {
        add(`alb-${service}-no-healthy-target`, {
          severity: "page",
          alarmDescription: `No healthy ${service} target behind the load balancer.`,
          namespace: "AWS/ApplicationELB",
          metricName: "HealthyHostCount",
          dimensions: { ...lb, TargetGroup: targetGroup },
          statistic: "Minimum",
          period: 60,
          evaluationPeriods: 2,
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          treatMissingData: "breaching",
        });
      }
    }

    if (props.database) {
      const db = props.database;
      const dimensions = { DBInstanceIdentifier: db.instanceIdentifier };
      add("rds-cpu", {
        severity: "ticket",
        alarmDescription: "Database CPU stays high: queries or load outgrow the instance class.",
        namespace: "AWS/RDS",
        metricName: "CPUUtilization",
        dimensions,
        statistic: "Average",
        period: 300,
        evaluationPeriods: 3,
        threshold: db.cpuPercent ?? 80,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "missing",
      });
      add("rds-free-storage", {
        severity: "page",
        alarmDescription:
          "Database storage nearly full (autoscaling reached its ceiling); writes fail when it is.",
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions,
        statistic: "Minimum",
        period: 300,
        evaluationPeriods: 1,
        threshold: db.freeStorageBytes ?? 5 * 1024 ** 3,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "missing",
      });
      add("rds-freeable-memory", {
        severity: "ticket",
        alarmDescription: "Database memory low: the instance swaps and slows down.",
        namespace: "AWS/RDS",
        metricName: "FreeableMemory",
        dimensions,
        statistic: "Minimum",
        period: 300,
        evaluationPeriods: 3,
        threshold: db.freeableMemoryBytes ?? 256 * 1024 ** 2,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "missing",
      });
    }

    if (props.kafka) {
      const kafka = props.kafka;
      if (!(Number.isInteger(kafka.brokerCount) && kafka.brokerCount >= 1)) {
        throw new Error(
          `PlatformAlarms ${props.namePrefix}: kafka.brokerCount must be 1 or more, got ${kafka.brokerCount}`,
        );
      }
      const cluster = { "Cluster Name": kafka.clusterName };
      add("msk-active-controller", {
        severity: "page",
        alarmDescription: "The Kafka cluster has no active controller: no leader elections, topics unusable.",
        namespace: "AWS/Kafka",
        metricName: "ActiveControllerCount",
        dimensions: cluster,
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 3,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      });
      add("msk-offline-partitions", {
        severity: "page",
        alarmDescription: "Kafka partitions without a leader: producers and consumers of them stall.",
        namespace: "AWS/Kafka",
        metricName: "OfflinePartitionsCount",
        dimensions: cluster,
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 2,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      for (let broker = 1; broker <= kafka.brokerCount; broker++) {
        add(`msk-broker-${broker}-disk`, {
          severity: "ticket",
          alarmDescription: `Kafka broker ${broker}'s data volume is filling up; grow storage or shorten retention.`,
          namespace: "AWS/Kafka",
          metricName: "KafkaDataLogsDiskUsed",
          dimensions: { ...cluster, "Broker ID": String(broker) },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 2,
          threshold: kafka.diskUsedPercent ?? 85,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "missing",
        });
      }
    }
    this.alarms = alarms;
  }
}
