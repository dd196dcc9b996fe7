import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { durationSeconds, WATCHDOG_ALERT } from "../dashboards/src/alertmanager";
import { GRAFANA_VERSION } from "../dashboards/src/registry";
import { ENVIRONMENTS } from "../environments";
import { GRAFANA_PUBLISH_ACTIONS } from "../modules/iam/github-oidc";
import { CRASH_STOP_CODES, TASK_CRASH_METRIC } from "../modules/observability/ecs-task-stops";
import { analyseRoles, roleMay } from "../modules/testing/iam";
import type { SynthesizedStack } from "../modules/testing/synth";
import { synthAll } from "./synth-all";

// What the observability layer delivers in AWS, proven on the synthesized Terraform of every environment.
const stacks = synthAll(ENVIRONMENTS);
const observability = (env: string) => stacks.get(`${env}-observability`) as SynthesizedStack;
const all = (stack: SynthesizedStack, type: string) => Object.values(stack.resource[type] ?? {});

interface Route {
  matchers?: string[];
  receiver: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}

function alertmanager(env: string): { route: Route; receivers: Array<Record<string, unknown>> } {
  const [definition] = all(observability(env), "aws_prometheus_alert_manager_definition");
  const outer = parseYaml(definition?.definition as string) as { alertmanager_config: string };
  return parseYaml(outer.alertmanager_config);
}

/** `${aws_sns_topic.<id>.arn}` of the topic with this name. */
function topicArnRef(stack: SynthesizedStack, name: string): string {
  const [id] = Object.entries(stack.resource.aws_sns_topic ?? {}).find(([, t]) => t.name === name) ?? [];
  if (!id) throw new Error(`no topic ${name}`);
  return `\${aws_sns_topic.${id}.arn}`;
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("observability of %s in AWS", (name, env) => {
  const stack = observability(name);
  const prefix = `blueprint-${name}`;

  it("When its Grafana workspace is created, then it runs the Grafana line compose runs and the dashboards are written for", () => {
    for (const workspace of all(stack, "aws_grafana_workspace")) {
      expect(workspace.grafana_version).toBe(GRAFANA_VERSION);
    }
  });

  it("When the apply job publishes the dashboards, then the apply role may make exactly the Grafana calls the script makes", () => {
    const script = fs.readFileSync(path.join(__dirname, "../.github/scripts/publish-dashboards.sh"), "utf8");
    const calls = [...script.matchAll(/aws grafana ([a-z-]+)/g)].map(
      ([, command]) =>
        `grafana:${(command as string).replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`,
    );
    expect([...new Set(calls)].sort()).toEqual([...GRAFANA_PUBLISH_ACTIONS].sort());
    const roles = analyseRoles(
      [...stacks].filter(([id]) => id.startsWith(`${name}-`)),
      env.accountId,
    );
    const apply = roles.find((r) => r.name === `${prefix}-github-apply`);
    if (!apply) throw new Error("no apply role");
    const workspace = `arn:aws:grafana:${env.region}:${env.accountId}:/workspaces/g-0123456789`;
    // Granted by the role's own policy, not only by the broad managed policy, and within its boundary.
    for (const action of calls) {
      expect(roleMay(apply, action, workspace, { managedMayAllow: false }), action).toBe(true);
    }
    // Never a long-lived Grafana API key, whatever PowerUserAccess grants.
    expect(roleMay(apply, "grafana:CreateWorkspaceApiKey", workspace, { managedMayAllow: true })).toBe(false);
  });

  it("When the watchdog fires, then AMP sends it only to its own topic, twice or more in each period its alarm counts, and the alarm pages only on silence", () => {
    const { route, receivers } = alertmanager(name);
    const watchdogRoute = route.routes?.find((r) => r.matchers?.includes(`alertname="${WATCHDOG_ALERT}"`));
    if (!watchdogRoute) throw new Error("no watchdog route");
    expect(route.routes?.[0]).toBe(watchdogRoute);
    const receiver = receivers.find((r) => r.name === watchdogRoute.receiver) as {
      sns_configs: Array<{ topic_arn: string }>;
    };
    const watchdogTopic = topicArnRef(stack, `${prefix}-alerts-watchdog`);
    expect(receiver.sns_configs.map((c) => c.topic_arn)).toEqual([watchdogTopic]);
    // No other receiver publishes there, and the watchdog reaches no other receiver.
    const others = receivers.filter((r) => r !== receiver);
    expect(JSON.stringify(others)).not.toContain(watchdogTopic);

    const [alarm] = all(stack, "aws_cloudwatch_metric_alarm").filter(
      (a) => a.alarm_name === `${prefix}-watchdog-silent`,
    );
    expect(alarm).toMatchObject({
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
      alarm_actions: [topicArnRef(stack, `${prefix}-alerts-page`)],
    });
    const queries = alarm?.metric_query as Array<{
      id: string;
      expression?: string;
      return_data?: boolean;
      metric?: { namespace: string; metric_name: string; stat: string; period: number; dimensions: object };
    }>;
    const published = queries.find((q) => q.metric);
    expect(published?.metric).toMatchObject({
      namespace: "AWS/SNS",
      metric_name: "NumberOfMessagesPublished",
      stat: "Sum",
      dimensions: { TopicName: watchdogTopic.replace(/\.arn\}$/, ".name}") },
    });
    // A period SNS reported nothing for counts as empty, not as a gap the alarm skips...
    expect(queries.filter((q) => q.return_data)).toEqual([
      expect.objectContaining({ expression: `FILL(${published?.id}, 0)` }),
    ]);
    // ...and the newest period, often not yet reported, cannot page on its own.
    expect(alarm?.evaluation_periods).toBe((alarm?.datapoints_to_alarm as number) + 1);
    // Two heartbeats fit in every period, so one lost delivery never leaves a period empty.
    const heartbeat =
      durationSeconds(watchdogRoute.repeat_interval as string) +
      durationSeconds(watchdogRoute.group_interval as string);
    expect(2 * heartbeat).toBeLessThanOrEqual(published?.metric?.period as number);
    // Created after AMP has been told to evaluate and deliver the watchdog.
    const [definitionId] = Object.keys(stack.resource.aws_prometheus_alert_manager_definition ?? {});
    const namespaceIds = Object.keys(stack.resource.aws_prometheus_rule_group_namespace ?? {});
    expect(alarm?.depends_on).toEqual(
      expect.arrayContaining([
        `\${aws_prometheus_alert_manager_definition.${definitionId}}`,
        ...namespaceIds.map((id) => `\${aws_prometheus_rule_group_namespace.${id}}`),
      ]),
    );
    // Only this environment's workspace may publish to its switch.
    const [policy] = all(stack, "aws_sns_topic_policy").filter((p) => p.arn === watchdogTopic);
    const [document] = Object.entries(stack.data.aws_iam_policy_document ?? {})
      .filter(([id]) => policy?.policy === `\${data.aws_iam_policy_document.${id}.json}`)
      .map(([, d]) => d);
    const workspaceArn = `\${aws_prometheus_workspace.${Object.keys(stack.resource.aws_prometheus_workspace ?? {})[0]}.arn}`;
    expect((document?.statement as Array<{ condition: unknown[] }>)[0]?.condition).toContainEqual({
      test: "ArnEquals",
      variable: "aws:SourceArn",
      values: [workspaceArn],
    });
  });
});

const ECS_ENVIRONMENTS = ENVIRONMENTS.filter((e) => e.compute.kind === "ecs");

describe.each(ECS_ENVIRONMENTS.map((e) => [e.name, e] as const))(
  "crashed tasks of %s on ECS",
  (name, env) => {
    const stack = observability(name);
    const prefix = `blueprint-${name}`;

    it("When a service's task crashes on ECS, then the crash is recorded and counted, and a crash loop opens a ticket", () => {
      const [rule] = all(stack, "aws_cloudwatch_event_rule");
      const pattern = JSON.parse(rule?.event_pattern as string);
      expect(pattern).toMatchObject({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: { lastStatus: ["STOPPED"], stopCode: [...CRASH_STOP_CODES] },
      });
      expect(pattern.detail.clusterArn).toHaveLength(1);
      const [target] = all(stack, "aws_cloudwatch_event_target");
      const [logGroupId, logGroup] = Object.entries(stack.resource.aws_cloudwatch_log_group ?? {}).find(
        ([, g]) => String(g.name).startsWith("/aws/events/"),
      ) ?? [undefined, undefined];
      expect(target?.arn).toBe(`\${aws_cloudwatch_log_group.${logGroupId}.arn}`);
      expect(logGroup).toMatchObject({ retention_in_days: env.logRetentionDays });
      expect(logGroup?.kms_key_id).toBeTruthy();
      const [writers] = all(stack, "aws_cloudwatch_log_resource_policy");
      expect(JSON.parse(writers?.policy_document as string).Statement[0].Principal.Service).toContain(
        "events.amazonaws.com",
      );
      const [filter] = all(stack, "aws_cloudwatch_log_metric_filter");
      expect(filter).toMatchObject({
        log_group_name: `\${aws_cloudwatch_log_group.${logGroupId}.name}`,
        metric_transformation: {
          namespace: TASK_CRASH_METRIC.namespace,
          name: TASK_CRASH_METRIC.name,
          dimensions: { ServiceName: "$.detail.group" },
        },
      });
      const ticket = topicArnRef(stack, `${prefix}-alerts-ticket`);
      const crashAlarms = all(stack, "aws_cloudwatch_metric_alarm").filter(
        (a) => a.metric_name === TASK_CRASH_METRIC.name,
      );
      const services = Object.keys(env.services).sort();
      expect(crashAlarms.map((a) => (a.dimensions as { ServiceName: string }).ServiceName).sort()).toEqual(
        services.map((s) => `service:${s}`),
      );
      for (const alarm of crashAlarms) {
        expect(alarm).toMatchObject({
          statistic: "Sum",
          period: 900,
          threshold: 3,
          comparison_operator: "GreaterThanOrEqualToThreshold",
          alarm_actions: [ticket],
        });
      }
    });
  },
);
