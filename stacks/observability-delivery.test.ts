import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { durationSeconds, WATCHDOG_ALERT } from "../dashboards/src/alertmanager";
import { GRAFANA_VERSION } from "../dashboards/src/registry";
import { ENVIRONMENTS } from "../environments";
import { GRAFANA_PUBLISH_ACTIONS } from "../modules/iam/github-oidc";
import {
  CRASH_STOP_CODES,
  DISTINCT_TASKS,
  HEALTH_CHECK_FAILURE_REASON,
} from "../modules/observability/ecs-task-stops";
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
        `aws_prometheus_alert_manager_definition.${definitionId}`,
        ...namespaceIds.map((id) => `aws_prometheus_rule_group_namespace.${id}`),
      ]),
    );
    // Only this environment's workspace may publish to its switch.
    const [policy] = all(stack, "aws_sns_topic_policy").filter((p) => p.arn === watchdogTopic);
    const [document] = Object.entries(stack.data.aws_iam_policy_document ?? {})
      .filter(([id]) => policy?.policy === `\${data.aws_iam_policy_document.${id}.json}`)
      .map(([, d]) => d);
    const workspaceArn = `\${aws_prometheus_workspace.${Object.keys(stack.resource.aws_prometheus_workspace ?? {})[0]}.arn}`;
    const [statement] = (document?.statement ?? []) as Array<{ condition: unknown[] }>;
    expect(statement?.condition).toContainEqual({
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

    it("When a service's task crashes or fails its health checks on ECS, then the stop is recorded, each task counted once, and a crash loop opens a ticket", () => {
      const [rule] = all(stack, "aws_cloudwatch_event_rule");
      const [ruleId] = Object.keys(stack.resource.aws_cloudwatch_event_rule ?? {});
      const pattern = JSON.parse(rule?.event_pattern as string);
      expect(pattern).toMatchObject({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          lastStatus: ["STOPPED"],
          // A task replaced after failing its load balancer or container health checks is a crash too.
          $or: [
            { stopCode: [...CRASH_STOP_CODES] },
            {
              stopCode: ["ServiceSchedulerInitiated"],
              stoppedReason: [{ prefix: HEALTH_CHECK_FAILURE_REASON }],
            },
          ],
        },
      });
      expect(pattern.detail.clusterArn).toHaveLength(1);
      const [target] = all(stack, "aws_cloudwatch_event_target");
      const [logGroupId, logGroup] = Object.entries(stack.resource.aws_cloudwatch_log_group ?? {}).find(
        ([, g]) => String(g.name).startsWith("/aws/events/"),
      ) ?? [undefined, undefined];
      expect(target?.arn).toBe(`\${aws_cloudwatch_log_group.${logGroupId}.arn}`);
      expect(logGroup).toMatchObject({ retention_in_days: env.logRetentionDays });
      expect(logGroup?.kms_key_id).toBeTruthy();
      // Only this rule of this account may write there, and the target waits for that grant.
      const [[writersId, writers]] = Object.entries(
        stack.resource.aws_cloudwatch_log_resource_policy ?? {},
      ) as [[string, Record<string, unknown>]];
      expect(JSON.parse(writers.policy_document as string).Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: "events.amazonaws.com" },
          Condition: {
            ArnEquals: { "aws:SourceArn": `\${aws_cloudwatch_event_rule.${ruleId}.arn}` },
            StringEquals: { "aws:SourceAccount": env.accountId },
          },
        }),
      ]);
      expect(target?.depends_on).toContain(`aws_cloudwatch_log_resource_policy.${writersId}`);

      // ECS may send a task's stop more than once: each service counts distinct task ARNs.
      const counts = Object.entries(stack.resource.aws_cloudwatch_contributor_insight_rule ?? {});
      const services = Object.keys(env.services).sort();
      const countOf = new Map(
        counts.map(([id, r]) => {
          const definition = JSON.parse(r.rule_definition as string);
          expect(definition).toMatchObject({
            LogGroupNames: [`\${aws_cloudwatch_log_group.${logGroupId}.name}`],
            LogFormat: "JSON",
            Contribution: { Keys: ["$.detail.taskArn"] },
            AggregateOn: "Count",
          });
          const [filter] = definition.Contribution.Filters;
          expect(filter.Match).toBe("$.detail.group");
          return [filter.In[0] as string, `\${aws_cloudwatch_contributor_insight_rule.${id}.rule_name}`];
        }),
      );
      expect([...countOf.keys()].sort()).toEqual(services.map((s) => `service:${s}`));
      const ticket = topicArnRef(stack, `${prefix}-alerts-ticket`);
      for (const service of services) {
        const [alarm] = all(stack, "aws_cloudwatch_metric_alarm").filter(
          (a) => a.alarm_name === `${prefix}-${service}-task-crash-loop`,
        );
        expect(alarm).toMatchObject({
          metric_query: [
            {
              expression: `INSIGHT_RULE_METRIC('${countOf.get(`service:${service}`)}', '${DISTINCT_TASKS}')`,
              period: 900,
              return_data: true,
            },
          ],
          threshold: 3,
          comparison_operator: "GreaterThanOrEqualToThreshold",
          alarm_actions: [ticket],
        });
      }
    });
  },
);
