import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { PrometheusAlertManagerDefinition } from "@cdktf/provider-aws/lib/prometheus-alert-manager-definition";
import { PrometheusRuleGroupNamespace } from "@cdktf/provider-aws/lib/prometheus-rule-group-namespace";
import { PrometheusWorkspace } from "@cdktf/provider-aws/lib/prometheus-workspace";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { stringify } from "yaml";
import {
  alertmanagerConfig,
  type ReceiverName,
  snsReceiver,
  snsReceivers,
  watchdogHeartbeatSeconds,
} from "../../dashboards/src/alertmanager";
import { ruleFiles } from "../../dashboards/src/rules";
import { policyDocument } from "../iam/policy-document";
import { EncryptionKey } from "../kms/encryption-key";
import { assertLogRetention } from "../workload/limits";
import { pascalCase } from "../workload/workload";
import { DeadMansSwitch } from "./dead-mans-switch";

/** Where an alert topic delivers: an e-mail address, an HTTPS endpoint (PagerDuty, Opsgenie, chat). */
export interface AlertSubscription {
  readonly protocol: "email" | "https";
  readonly endpoint: string;
}

export interface ObservabilityProps {
  /** Environment name; prefixes resource names and is the `env` label the collectors attach. */
  readonly environment: string;
  /** Prefix of resource names, e.g. `blueprint-prod`. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly region: string;
  /** Retention of the workspace's log group (rule evaluation and alert manager errors). */
  readonly logRetentionDays: number;
  /** KMS key encrypting that log group; its policy must admit the `logs` service principal. */
  readonly logKmsKeyArn: string;
  /**
   * Prometheus rule files by name, each deployed as one rule group namespace.
   * @default the generated rule files of dashboards/ (the same ones promtool tests and the local Prometheus loads)
   */
  readonly ruleFiles?: Readonly<Record<string, string>>;
  /**
   * Subscriptions of the `page` topic, which receives `critical` alerts and second-line alarms.
   * @default none (subscribe out of band, e.g. a PagerDuty integration confirmed by hand)
   */
  readonly pageSubscriptions?: readonly AlertSubscription[];
  /**
   * Subscriptions of the `ticket` topic, which receives `warning` alerts.
   * @default none
   */
  readonly ticketSubscriptions?: readonly AlertSubscription[];
  /**
   * KMS key of the workspace's stored metrics.
   * @default an AWS owned key
   */
  readonly workspaceKmsKeyArn?: string;
}

/** Names of the rule group namespaces: `http.rules.yml` -> `http`. */
export function namespaceName(fileName: string): string {
  return fileName.replace(/\.rules\.ya?ml$/, "");
}

/** Services that publish alerts into the topics: AMP's alert manager and CloudWatch alarms. */
const PUBLISHERS = ["aps.amazonaws.com", "cloudwatch.amazonaws.com"];

/**
 * The environment's metrics backend: an Amazon Managed Service for Prometheus workspace with the
 * repository's rule files as rule group namespaces, its alert manager routing `critical` alerts to
 * a `page` SNS topic and `warning` alerts to a `ticket` topic (the routing tree of
 * dashboards/src/alertmanager.ts), both topics encrypted with their own key that AMP and
 * CloudWatch may use, and the `Watchdog` to the dead-man's switch, whose alarm pages when it stops.
 */
export class Observability extends Construct {
  readonly workspace: PrometheusWorkspace;
  readonly workspaceId: string;
  readonly workspaceArn: string;
  /** Query endpoint, `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`. */
  readonly prometheusEndpoint: string;
  /** Where collectors remote-write: `<prometheusEndpoint>api/v1/remote_write`. */
  readonly remoteWriteUrl: string;
  readonly logGroup: CloudwatchLogGroup;
  /** Rule group namespaces by namespace name (`http`, `slo`, ...). */
  readonly ruleNamespaces: Readonly<Record<string, PrometheusRuleGroupNamespace>>;
  readonly alertManager: PrometheusAlertManagerDefinition;
  /** The SNS topics alerts are routed to. */
  readonly alertTopics: Readonly<Record<ReceiverName, SnsTopic>>;
  readonly alertTopicKey: KmsKey;
  /** The watchdog's topic and the alarm that pages when it falls silent. */
  readonly deadMansSwitch: DeadMansSwitch;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const files = props.ruleFiles ?? ruleFiles();
    const pageSubscriptions = props.pageSubscriptions ?? [];
    const ticketSubscriptions = props.ticketSubscriptions ?? [];

    const owner = `Observability ${props.environment}`;
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(props.environment)) {
      throw new Error(
        `${owner}: environment must be lower-case letters, digits and hyphens, got "${props.environment}"`,
      );
    }
    assertLogRetention(owner, props.logRetentionDays);
    if (Object.keys(files).length === 0)
      throw new Error(`${owner}: ruleFiles must hold at least one rule file`);
    for (const name of Object.keys(files)) {
      if (!/^[A-Za-z0-9_.-]+\.rules\.ya?ml$/.test(name)) {
        throw new Error(`${owner}: rule file names must end in .rules.yml, got "${name}"`);
      }
    }
    for (const s of [...pageSubscriptions, ...ticketSubscriptions]) {
      if (s.protocol === "https" && !s.endpoint.startsWith("https://")) {
        throw new Error(`${owner}: an https subscription needs an https:// endpoint, got "${s.endpoint}"`);
      }
    }

    const prefix = props.namePrefix;
    this.logGroup = new CloudwatchLogGroup(this, "LogGroup", {
      name: `/aws/prometheus/${prefix}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });
    this.workspace = new PrometheusWorkspace(this, "Workspace", {
      alias: prefix,
      kmsKeyArn: props.workspaceKmsKeyArn,
      loggingConfiguration: { logGroupArn: `${this.logGroup.arn}:*` },
    });
    this.workspaceId = this.workspace.id;
    this.workspaceArn = this.workspace.arn;
    this.prometheusEndpoint = this.workspace.prometheusEndpoint;
    this.remoteWriteUrl = `${this.workspace.prometheusEndpoint}api/v1/remote_write`;

    const namespaces: Record<string, PrometheusRuleGroupNamespace> = {};
    for (const [fileName, data] of Object.entries(files)) {
      const name = namespaceName(fileName);
      namespaces[name] = new PrometheusRuleGroupNamespace(this, `Rules${pascalCase(name)}`, {
        name,
        workspaceId: this.workspace.id,
        data,
      });
    }
    this.ruleNamespaces = namespaces;

    const sourceConditions = [
      { test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] },
    ];
    this.alertTopicKey = new EncryptionKey(this, "AlertTopicKey", {
      alias: `${prefix}-alerts`,
      description: `Encrypts the ${prefix} alert topics; AMP and CloudWatch alarms publish with it`,
      accountId: props.accountId,
      region: props.region,
      additionalStatements: [
        {
          Sid: "AlertPublishers",
          Effect: "Allow",
          Principal: { Service: PUBLISHERS },
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
        },
      ],
    }).key;

    const subscriptions: Record<ReceiverName, readonly AlertSubscription[]> = {
      page: pageSubscriptions,
      ticket: ticketSubscriptions,
    };
    const topics = {} as Record<ReceiverName, SnsTopic>;
    for (const receiver of ["page", "ticket"] as const) {
      const name = pascalCase(receiver);
      const topic = new SnsTopic(this, `${name}Topic`, {
        name: `${prefix}-alerts-${receiver}`,
        kmsMasterKeyId: this.alertTopicKey.arn,
      });
      new SnsTopicPolicy(this, `${name}TopicPolicy`, {
        arn: topic.arn,
        policy: policyDocument(this, `${name}TopicPolicyDocument`, [
          {
            sid: "AlertPublishers",
            effect: "Allow",
            principals: [{ type: "Service", identifiers: PUBLISHERS }],
            actions: ["sns:Publish", "sns:GetTopicAttributes"],
            resources: [topic.arn],
            condition: sourceConditions,
          },
        ]).json,
      });
      subscriptions[receiver].forEach((s, i) => {
        new SnsTopicSubscription(this, `${name}Subscription${i + 1}`, {
          topicArn: topic.arn,
          protocol: s.protocol,
          endpoint: s.endpoint,
        });
      });
      topics[receiver] = topic;
    }
    this.alertTopics = topics;

    this.deadMansSwitch = new DeadMansSwitch(this, "DeadMansSwitch", {
      namePrefix: prefix,
      accountId: props.accountId,
      workspaceArn: this.workspace.arn,
      kmsKeyArn: this.alertTopicKey.arn,
      pageTopicArn: topics.page.arn,
      heartbeatIntervalSeconds: watchdogHeartbeatSeconds(),
    });
    const routing = alertmanagerConfig(
      snsReceivers({ page: topics.page.arn, ticket: topics.ticket.arn }, props.region),
      { deadMansSwitch: snsReceiver(this.deadMansSwitch.topic.arn, props.region) },
    );
    this.alertManager = new PrometheusAlertManagerDefinition(this, "AlertManager", {
      workspaceId: this.workspace.id,
      definition: stringify({ alertmanager_config: stringify(routing, { lineWidth: 0 }) }, { lineWidth: 0 }),
    });
    this.deadMansSwitch.dependOn(this.alertManager, ...Object.values(namespaces));
  }
}
