import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT, RULES_DIR } from "../../dashboards/src/paths";
import { OBSERVED_SERVICES } from "../../dashboards/src/registry";
import {
  onlyResource,
  policyStatements,
  resourcesOf,
  type SynthesizedStack,
  synthConstruct,
} from "../testing/synth";
import { DeadMansSwitch } from "./dead-mans-switch";
import { ADOT_COLLECTOR_IMAGE, EcsMetricsCollector, ecsCollectorOtlpEndpoint } from "./ecs-metrics-collector";
import { EcsTaskStops } from "./ecs-task-stops";
import { EksMetricsScraper, EksScraperRbac, SCRAPER_USER } from "./eks-metrics-scraper";
import { ManagedGrafana } from "./managed-grafana";
import { Observability, type ObservabilityProps } from "./observability";
import { PlatformAlarms } from "./platform-alarms";

type Json = Record<string, unknown>;

/** The environment the account-wide constructs are built for. */
const PROD = {
  environment: "prod",
  namePrefix: "blueprint-prod",
  accountId: "333333333333",
  region: "eu-west-1",
} as const;

const BASE: ObservabilityProps = {
  ...PROD,
  logRetentionDays: 365,
  logKmsKeyArn: "arn:aws:kms:eu-west-1:333333333333:key/logs",
};

describe("Observability (AMP workspace, rules, alert manager)", () => {
  const stack = synthConstruct((scope) => new Observability(scope, "Observability", BASE));

  it("When synthesized, then each committed rule file becomes one rule group namespace with the same content", () => {
    const namespaces = resourcesOf(stack, "aws_prometheus_rule_group_namespace");
    const files = fs.readdirSync(path.join(REPO_ROOT, RULES_DIR)).sort();
    expect(namespaces.map((n) => `${n.name}.rules.yml`).sort()).toEqual(files);
    for (const ns of namespaces) {
      expect(ns.data).toBe(fs.readFileSync(path.join(REPO_ROOT, RULES_DIR, `${ns.name}.rules.yml`), "utf8"));
      expect(ns.workspace_id).toMatch(/^\$\{aws_prometheus_workspace\.\w+\.id\}$/);
    }
  });

  it("When an alert fires, then critical goes to the page topic and warning to the ticket topic over SNS", () => {
    const definition = parse(
      onlyResource(stack, "aws_prometheus_alert_manager_definition").definition as string,
    ) as {
      alertmanager_config: string;
    };
    const config = parse(definition.alertmanager_config) as {
      route: { routes: Array<{ matchers: string[]; receiver: string }> };
      receivers: Array<{
        name: string;
        sns_configs: Array<{ topic_arn: string; sigv4: { region: string } }>;
      }>;
    };
    expect(config.route.routes).toEqual([
      expect.objectContaining({ matchers: ['alertname="Watchdog"'], receiver: "dead-mans-switch" }),
      expect.objectContaining({ matchers: ['severity="critical"'], receiver: "page" }),
      expect.objectContaining({ matchers: ['severity="warning"'], receiver: "ticket" }),
    ]);
    const topicOf = (name: string) => config.receivers.find((r) => r.name === name)?.sns_configs[0];
    expect(topicOf("page")?.topic_arn).toMatch(/^\$\{aws_sns_topic\.\w*PageTopic\w*\.arn\}$/);
    expect(topicOf("ticket")?.topic_arn).toMatch(/^\$\{aws_sns_topic\.\w*TicketTopic\w*\.arn\}$/);
    expect(topicOf("page")?.sigv4.region).toBe("eu-west-1");
  });

  it("When alerts are published, then the topics are encrypted and only AMP and CloudWatch of this account may publish, the watchdog's only AMP", () => {
    const topics = resourcesOf(stack, "aws_sns_topic");
    expect(topics.map((t) => t.name).sort()).toEqual([
      "blueprint-prod-alerts-page",
      "blueprint-prod-alerts-ticket",
      "blueprint-prod-alerts-watchdog",
    ]);
    for (const t of topics) expect(t.kms_master_key_id).toMatch(/aws_kms_key\.\w*AlertTopicKey\w*\.arn/);
    const publish = policyStatements(stack).filter((s) => (s.actions as string[]).includes("sns:Publish"));
    expect(
      publish.map((s) => s.principals).sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length),
    ).toEqual([
      [{ type: "Service", identifiers: ["aps.amazonaws.com", "cloudwatch.amazonaws.com"] }],
      [{ type: "Service", identifiers: ["aps.amazonaws.com", "cloudwatch.amazonaws.com"] }],
      [{ type: "Service", identifiers: ["aps.amazonaws.com"] }],
    ]);
    for (const s of publish) {
      expect(s.condition).toContainEqual({
        test: "StringEquals",
        variable: "aws:SourceAccount",
        values: ["333333333333"],
      });
    }
    const key = onlyResource(stack, "aws_kms_key");
    expect(key.enable_key_rotation).toBe(true);
    const keyPolicy = JSON.parse(key.policy as string) as { Statement: Json[] };
    expect(keyPolicy.Statement.find((s) => s.Sid === "AlertPublishers")).toEqual({
      Sid: "AlertPublishers",
      Effect: "Allow",
      Principal: { Service: ["aps.amazonaws.com", "cloudwatch.amazonaws.com"] },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": "333333333333" } },
    });
  });

  it("When the workspace logs, then it writes to a KMS-encrypted log group with the given retention", () => {
    const group = onlyResource(stack, "aws_cloudwatch_log_group");
    expect(group).toMatchObject({
      name: "/aws/prometheus/blueprint-prod",
      retention_in_days: 365,
      kms_key_id: BASE.logKmsKeyArn,
    });
    expect(onlyResource(stack, "aws_prometheus_workspace")).toMatchObject({
      alias: "blueprint-prod",
      logging_configuration: {
        log_group_arn: expect.stringMatching(/aws_cloudwatch_log_group\.\w+\.arn\}:\*$/),
      },
    });
  });

  it("When subscriptions are given, then each topic delivers to them", () => {
    const withSubscriptions = synthConstruct(
      (scope) =>
        new Observability(scope, "Observability", {
          ...BASE,
          pageSubscriptions: [
            { protocol: "https", endpoint: "https://events.pagerduty.com/integration/x/enqueue" },
          ],
          ticketSubscriptions: [{ protocol: "email", endpoint: "sre@example.org" }],
        }),
    );
    const subs = resourcesOf(withSubscriptions, "aws_sns_topic_subscription");
    expect(subs.map((s) => [s.protocol, s.endpoint, String(s.topic_arn).includes("PageTopic")])).toEqual([
      ["https", "https://events.pagerduty.com/integration/x/enqueue", true],
      ["email", "sre@example.org", false],
    ]);
  });

  it("When props are wrong, then synthesis fails naming the value and the rule", () => {
    expect(() => synthConstruct((s) => new Observability(s, "O", { ...BASE, logRetentionDays: 8 }))).toThrow(
      /logRetentionDays must be a CloudWatch Logs retention value .* got 8/,
    );
    expect(() => synthConstruct((s) => new Observability(s, "O", { ...BASE, environment: "Prod" }))).toThrow(
      /environment must be lower-case .* got "Prod"/,
    );
    expect(() =>
      synthConstruct(
        (s) =>
          new Observability(s, "O", {
            ...BASE,
            pageSubscriptions: [{ protocol: "https", endpoint: "http://x" }],
          }),
      ),
    ).toThrow(/needs an https:\/\/ endpoint, got "http:\/\/x"/);
    expect(() =>
      synthConstruct((s) => new Observability(s, "O", { ...BASE, ruleFiles: { "http.yaml": "groups: []" } })),
    ).toThrow(/must end in \.rules\.yml, got "http\.yaml"/);
  });
});

describe("ManagedGrafana", () => {
  const stack = synthConstruct(
    (scope) =>
      new ManagedGrafana(scope, "Grafana", {
        ...PROD,
        prometheusWorkspaceArn: "arn:aws:aps:eu-west-1:333333333333:workspace/ws-1",
      }),
  );

  it("When the workspace is created, then it reads AMP and CloudWatch through its own role, signing in with IAM Identity Center", () => {
    expect(onlyResource(stack, "aws_grafana_workspace")).toMatchObject({
      name: "blueprint-prod",
      account_access_type: "CURRENT_ACCOUNT",
      authentication_providers: ["AWS_SSO"],
      permission_type: "CUSTOMER_MANAGED",
      data_sources: ["PROMETHEUS", "CLOUDWATCH"],
    });
    const query = policyStatements(stack).find((s) => s.sid === "QueryPrometheus");
    expect(query?.resources).toEqual(["arn:aws:aps:eu-west-1:333333333333:workspace/ws-1"]);
    expect(onlyResource(stack, "aws_grafana_workspace_service_account")).toMatchObject({
      grafana_role: "EDITOR",
    });
  });
});

/** Terraform reference to `attribute` of the stack's only resource of `type`. */
function onlyReference(stack: SynthesizedStack, type: string, attribute: string): string {
  const ids = Object.keys(stack.resource[type] ?? {});
  if (ids.length !== 1) throw new Error(`expected one ${type}, got ${ids.length}`);
  return `\${${type}.${ids[0]}.${attribute}}`;
}

describe("EcsMetricsCollector", () => {
  const ports = Object.fromEntries(OBSERVED_SERVICES.map((s) => [s.name, s.port]));
  const stack = synthConstruct(
    (scope) =>
      new EcsMetricsCollector(scope, "Collector", {
        environment: "dev",
        accountId: "111111111111",
        region: "eu-west-1",
        clusterName: "blueprint-dev",
        clusterArn: "arn:aws:ecs:eu-west-1:111111111111:cluster/blueprint-dev",
        vpcId: "vpc-1",
        privateSubnetIds: ["subnet-a", "subnet-b"],
        servicesSecurityGroupId: "sg-services",
        servicePorts: ports,
        workspaceArn: "arn:aws:aps:eu-west-1:111111111111:workspace/ws-1",
        remoteWriteUrl: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
        logRetentionDays: 30,
        logKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/logs",
      }),
  );
  const [container] = JSON.parse(
    onlyResource(stack, "aws_ecs_task_definition").container_definitions as string,
  ) as Array<{
    image: string;
    readonlyRootFilesystem: boolean;
    environment: Array<{ name: string; value: string }>;
  }>;
  const config = parse(container?.environment.find((e) => e.name === "AOT_CONFIG_CONTENT")?.value ?? "") as {
    extensions: { ecs_observer: { cluster_name: string; services: Json[] } };
    receivers: {
      prometheus: { config: { scrape_configs: Array<{ relabel_configs: Json[]; honor_labels: boolean }> } };
      otlp: Json;
    };
    exporters: { prometheusremotewrite: { endpoint: string; auth: Json }; awsxray: Json };
    service: {
      pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
    };
  };

  it("When the collector runs, then it discovers each service's tasks on its port and remote-writes to AMP with SigV4", () => {
    expect(container?.image).toBe(ADOT_COLLECTOR_IMAGE);
    expect(container?.readonlyRootFilesystem).toBe(true);
    expect(config.extensions.ecs_observer.cluster_name).toBe("blueprint-dev");
    expect(config.extensions.ecs_observer.services).toEqual(
      OBSERVED_SERVICES.map((s) => ({
        name_pattern: `^${s.name}\\z`,
        metrics_ports: [s.port],
        job_name: s.name,
      })),
    );
    const [job] = config.receivers.prometheus.config.scrape_configs;
    expect(job?.honor_labels).toBe(true);
    expect(job?.relabel_configs).toContainEqual({ target_label: "env", replacement: "dev" });
    expect(config.exporters.prometheusremotewrite).toEqual({
      endpoint: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
      auth: { authenticator: "sigv4auth" },
    });
  });

  it("When the collector acts in AWS, then it may only remote-write to its workspace and read its cluster's tasks", () => {
    const write = policyStatements(stack).find((s) => s.sid === "RemoteWrite");
    expect(write).toMatchObject({
      actions: ["aps:RemoteWrite"],
      resources: ["arn:aws:aps:eu-west-1:111111111111:workspace/ws-1"],
    });
    const discover = policyStatements(stack).find((s) => s.sid === "DiscoverTasks");
    expect(discover?.condition).toEqual([
      {
        test: "ArnEquals",
        variable: "ecs:cluster",
        values: ["arn:aws:ecs:eu-west-1:111111111111:cluster/blueprint-dev"],
      },
    ]);
  });

  it("When the collector scrapes, then the services' security group admits it on each service port only", () => {
    const ingress = resourcesOf(stack, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.security_group_id === "sg-services",
    );
    expect(ingress.map((r) => [r.from_port, r.to_port]).sort()).toEqual(
      OBSERVED_SERVICES.map((s) => [s.port, s.port]).sort(),
    );
  });

  it("When a service sends spans, then the collector receives OTLP over HTTP on every interface and sends them to X-Ray in its region", () => {
    expect(config.receivers.otlp).toEqual({ protocols: { http: { endpoint: "0.0.0.0:4318" } } });
    expect(config.exporters.awsxray).toEqual({ region: "eu-west-1" });
    expect(config.service.pipelines.traces).toEqual({
      receivers: ["otlp"],
      processors: ["memory_limiter", "batch"],
      exporters: ["awsxray"],
    });
    expect(config.service.pipelines.metrics?.receivers).toEqual(["prometheus"]);
  });

  it("When the collector sends spans, then its role may put trace segments and read sampling rules, nothing else of X-Ray", () => {
    const xray = policyStatements(stack).filter((s) =>
      (s.actions as string[]).some((a) => a.startsWith("xray:")),
    );
    expect(xray).toEqual([
      expect.objectContaining({
        sid: "PublishTraces",
        actions: [
          "xray:PutTraceSegments",
          "xray:PutTelemetryRecords",
          "xray:GetSamplingRules",
          "xray:GetSamplingTargets",
        ],
        resources: ["*"],
      }),
    ]);
  });

  it("When a service sends spans, then only the services' security group reaches the collector, on the OTLP port", () => {
    const collectorSg = onlyReference(stack, "aws_security_group", "id");
    const collectorIngress = resourcesOf(stack, "aws_vpc_security_group_ingress_rule").filter(
      (r) => r.security_group_id !== "sg-services",
    );
    expect(collectorIngress).toEqual([
      expect.objectContaining({
        security_group_id: collectorSg,
        referenced_security_group_id: "sg-services",
        from_port: 4318,
        to_port: 4318,
      }),
    ]);
    const servicesEgress = resourcesOf(stack, "aws_vpc_security_group_egress_rule").filter(
      (r) => r.security_group_id === "sg-services",
    );
    expect(servicesEgress).toEqual([
      expect.objectContaining({ referenced_security_group_id: collectorSg, from_port: 4318, to_port: 4318 }),
    ]);
  });

  it("When the collector task starts, then ECS registers it under the name the services send their spans to", () => {
    const namespace = onlyResource(stack, "aws_service_discovery_private_dns_namespace");
    const discovery = onlyResource(stack, "aws_service_discovery_service");
    expect(namespace.vpc).toBe("vpc-1");
    expect(onlyResource(stack, "aws_ecs_service").service_registries).toEqual({
      registry_arn: onlyReference(stack, "aws_service_discovery_service", "arn"),
    });
    expect(discovery.dns_config).toMatchObject({ dns_records: [{ type: "A", ttl: 10 }] });
    expect(ecsCollectorOtlpEndpoint("blueprint-dev")).toBe(`http://${discovery.name}.${namespace.name}:4318`);
  });
});

describe("EksMetricsScraper", () => {
  const stack = synthConstruct((scope) => {
    new EksMetricsScraper(scope, "Scraper", {
      environment: "prod",
      namePrefix: "blueprint-prod",
      clusterName: "blueprint-prod",
      clusterArn: "arn:aws:eks:eu-west-1:333333333333:cluster/blueprint-prod",
      subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
      securityGroupIds: ["sg-nodes"],
      workspaceArn: "arn:aws:aps:eu-west-1:333333333333:workspace/ws-1",
      services: OBSERVED_SERVICES.map((s) => s.name),
    });
    new EksScraperRbac(scope, "ScraperRbac");
  });

  it("When the managed scraper runs, then it scrapes the service pods of the blueprint namespace into the workspace with env set", () => {
    const scraper = onlyResource(stack, "aws_prometheus_scraper");
    expect(scraper.destination).toEqual([
      { amp: [{ workspace_arn: "arn:aws:aps:eu-west-1:333333333333:workspace/ws-1" }] },
    ]);
    const config = parse(scraper.scrape_configuration as string) as {
      scrape_configs: Array<{ kubernetes_sd_configs: Json[]; relabel_configs: Json[] }>;
    };
    const [job] = config.scrape_configs;
    expect(job?.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: ["blueprint"] } }]);
    expect(job?.relabel_configs).toContainEqual({
      source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
      regex: OBSERVED_SERVICES.map((s) => s.name).join("|"),
      action: "keep",
    });
    expect(job?.relabel_configs).toContainEqual({ target_label: "env", replacement: "prod" });
  });

  it("When the scraper calls the Kubernetes API, then it is a named user allowed only to discover pods in the namespace", () => {
    expect(onlyResource(stack, "aws_eks_access_entry")).toMatchObject({
      user_name: SCRAPER_USER,
      type: "STANDARD",
    });
    expect(onlyResource(stack, "aws_eks_access_entry").principal_arn).toContain(
      "replace(aws_prometheus_scraper.",
    );
    expect(onlyResource(stack, "kubernetes_role_v1")).toMatchObject({
      metadata: { name: "aps-collector", namespace: "blueprint" },
      rule: [
        { api_groups: [""], resources: ["pods", "services", "endpoints"], verbs: ["get", "list", "watch"] },
      ],
    });
    expect(onlyResource(stack, "kubernetes_role_binding_v1").subject).toEqual([
      { kind: "User", name: SCRAPER_USER, api_group: "rbac.authorization.k8s.io" },
    ]);
  });
});

describe("PlatformAlarms", () => {
  const stack = synthConstruct(
    (scope) =>
      new PlatformAlarms(scope, "Alarms", {
        namePrefix: "blueprint-prod",
        pageTopicArn: "arn:aws:sns:eu-west-1:333333333333:page",
        ticketTopicArn: "arn:aws:sns:eu-west-1:333333333333:ticket",
        alb: {
          loadBalancerArnSuffix: "app/blueprint-prod/abc",
          targetGroupArnSuffixes: { "user-service": "targetgroup/user/1" },
        },
        database: { instanceIdentifier: "blueprint-prod" },
        kafka: { clusterName: "blueprint-prod", brokerCount: 3 },
      }),
  );
  const alarms = Object.fromEntries(
    resourcesOf(stack, "aws_cloudwatch_metric_alarm").map((a) => [a.alarm_name, a]),
  );

  it("When AWS-side health fails, then ALB 5xx, RDS and MSK alarms fire to the page or ticket topic", () => {
    expect(Object.keys(alarms).sort()).toEqual([
      "blueprint-prod-alb-elb-5xx",
      "blueprint-prod-alb-target-5xx-ratio",
      "blueprint-prod-alb-user-service-no-healthy-target",
      "blueprint-prod-msk-active-controller",
      "blueprint-prod-msk-broker-1-disk",
      "blueprint-prod-msk-broker-2-disk",
      "blueprint-prod-msk-broker-3-disk",
      "blueprint-prod-msk-offline-partitions",
      "blueprint-prod-rds-cpu",
      "blueprint-prod-rds-free-storage",
      "blueprint-prod-rds-freeable-memory",
    ]);
    const page = [
      "alb-elb-5xx",
      "alb-target-5xx-ratio",
      "msk-active-controller",
      "msk-offline-partitions",
      "rds-free-storage",
    ];
    for (const suffix of page) {
      expect(alarms[`blueprint-prod-${suffix}`]?.alarm_actions, suffix).toEqual([
        "arn:aws:sns:eu-west-1:333333333333:page",
      ]);
    }
    expect(alarms["blueprint-prod-rds-cpu"]?.alarm_actions).toEqual([
      "arn:aws:sns:eu-west-1:333333333333:ticket",
    ]);
  });

  it("When targets answer 5xx, then the alarm compares the 5xx share of requests with the alert's 5 %", () => {
    const ratio = alarms["blueprint-prod-alb-target-5xx-ratio"];
    expect(ratio?.threshold).toBe(0.05);
    expect(ratio?.metric_query).toContainEqual(
      expect.objectContaining({
        id: "ratio",
        expression: "IF(requests > 0, errors / requests, 0)",
        return_data: true,
      }),
    );
    expect(alarms["blueprint-prod-msk-active-controller"]?.treat_missing_data).toBe("breaching");
  });

  it("When props are wrong, then synthesis fails naming the value", () => {
    expect(() =>
      synthConstruct(
        (s) =>
          new PlatformAlarms(s, "A", {
            namePrefix: "x",
            pageTopicArn: "p",
            ticketTopicArn: "t",
            kafka: { clusterName: "k", brokerCount: 0 },
          }),
      ),
    ).toThrow(/kafka\.brokerCount must be 1 or more, got 0/);
  });
});

describe("DeadMansSwitch and EcsTaskStops", () => {
  const switchProps = {
    namePrefix: "blueprint-prod",
    accountId: "333333333333",
    workspaceArn: "arn:aws:aps:eu-west-1:333333333333:workspace/ws-1",
    kmsKeyArn: "arn:aws:kms:eu-west-1:333333333333:key/k",
    pageTopicArn: "arn:aws:sns:eu-west-1:333333333333:blueprint-prod-alerts-page",
  };

  it("When the watchdog is resent less often than twice per five-minute period, then synthesis stops and says so", () => {
    // Every 5.5 minutes, as before: one lost delivery and one late period would page.
    expect(() =>
      synthConstruct(
        (scope) => new DeadMansSwitch(scope, "Switch", { ...switchProps, heartbeatIntervalSeconds: 330 }),
      ),
    ).toThrow(
      "DeadMansSwitch blueprint-prod: each 300 s period must hold two heartbeats, got one every 330 s; resend the watchdog more often",
    );
  });

  it("When crash counting is given a window that is not whole minutes, then synthesis stops and says so", () => {
    expect(() =>
      synthConstruct(
        (scope) =>
          new EcsTaskStops(scope, "Stops", {
            namePrefix: "blueprint-dev",
            accountId: "111111111111",
            clusterArn: "arn:aws:ecs:eu-west-1:111111111111:cluster/blueprint-dev",
            services: ["user-service"],
            ticketTopicArn: "arn:aws:sns:eu-west-1:111111111111:blueprint-dev-alerts-ticket",
            logRetentionDays: 30,
            logKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/k",
            windowSeconds: 90,
          }),
      ),
    ).toThrow("EcsTaskStops blueprint-dev: windowSeconds must be a whole number of minutes, got 90");
  });
});
