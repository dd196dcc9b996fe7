import type { ServiceEntry, TopicEntry } from "@blueprint/service-kit/catalog";

/** The catalog as the diagram draws it: services, and every topic the brokers hold. */
export interface CatalogView {
  readonly services: readonly ServiceEntry[];
  readonly topics: readonly TopicEntry[];
}

import type { StackData } from "./stacks";

/**
 * Resource types drawn in the diagram, in drawing order, with their labels. Every other type
 * (IAM, KMS, security groups, log groups, routes...) is left out to keep the picture readable.
 * `role` marks the resources the service catalog attaches to.
 */
const KEY_RESOURCES: readonly {
  type: string;
  label: string;
  role?: "entry" | "runs" | "database" | "kafka";
}[] = [
  { type: "aws_s3_bucket", label: "S3 bucket" },
  { type: "aws_dynamodb_table", label: "DynamoDB lock table" },
  { type: "aws_iam_openid_connect_provider", label: "OIDC provider" },
  { type: "aws_vpc", label: "VPC" },
  { type: "aws_subnet", label: "Subnets" },
  { type: "aws_internet_gateway", label: "Internet gateway" },
  { type: "aws_nat_gateway", label: "NAT gateways" },
  { type: "aws_vpc_endpoint", label: "VPC endpoints" },
  { type: "aws_flow_log", label: "Flow logs" },
  { type: "aws_db_instance", label: "RDS PostgreSQL", role: "database" },
  { type: "aws_secretsmanager_secret", label: "Secrets Manager secrets" },
  { type: "aws_msk_cluster", label: "MSK (Kafka)", role: "kafka" },
  { type: "aws_lb", label: "Application Load Balancer", role: "entry" },
  { type: "aws_acm_certificate", label: "ACM certificate" },
  { type: "aws_wafv2_web_acl", label: "WAF web ACL" },
  { type: "aws_lb_target_group", label: "Target groups" },
  { type: "aws_ecr_repository", label: "ECR repositories" },
  { type: "aws_ecs_cluster", label: "ECS cluster" },
  { type: "aws_ecs_service", label: "ECS services", role: "runs" },
  { type: "aws_eks_cluster", label: "EKS cluster" },
  { type: "aws_eks_node_group", label: "EKS node group" },
  { type: "aws_eks_addon", label: "EKS add-ons" },
  { type: "kubernetes_namespace_v1", label: "Namespace" },
  { type: "kubernetes_deployment_v1", label: "Deployments", role: "runs" },
  { type: "kubernetes_service_v1", label: "Services (NodePort)" },
  { type: "kubernetes_horizontal_pod_autoscaler_v2", label: "HorizontalPodAutoscalers" },
  { type: "kubernetes_network_policy_v1", label: "NetworkPolicies" },
  { type: "aws_prometheus_workspace", label: "Managed Prometheus" },
  { type: "aws_prometheus_scraper", label: "AMP scraper" },
  { type: "aws_grafana_workspace", label: "Managed Grafana" },
  { type: "aws_cloudwatch_metric_alarm", label: "CloudWatch alarms" },
  { type: "aws_sns_topic", label: "SNS alert topics" },
];

const FONT = "Helvetica,Arial,sans-serif";

interface Layer {
  readonly name: string;
  readonly envs: readonly string[];
  readonly resources: readonly {
    type: string;
    label: string;
    role?: string;
    envs: string[];
    maxCount: number;
  }[];
}

interface Dependency {
  readonly from: string;
  readonly to: string;
  readonly envs: readonly string[];
}

/**
 * Merges the stacks of every environment by layer (`dev-network`, `prod-network` -> `network`),
 * noting the environments where a resource or dependency exists only in some of them.
 */
export function layersOf(stacks: readonly StackData[]): { layers: Layer[]; dependencies: Dependency[] } {
  const envOrder = [...new Set(stacks.map((s) => s.env))];
  const layerOf = (s: StackData) => s.name.slice(s.env.length + 1);
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const layerNames = [...new Set(stacks.map(layerOf))];
  const layers = layerNames.map((name): Layer => {
    const own = stacks.filter((s) => layerOf(s) === name);
    const resources = KEY_RESOURCES.flatMap((key) => {
      const having = own.filter((s) => s.resourceTypes.has(key.type));
      if (having.length === 0) return [];
      return [
        {
          ...key,
          envs: having.map((s) => s.env),
          maxCount: Math.max(...having.map((s) => s.resourceTypes.get(key.type) ?? 0)),
        },
      ];
    });
    return { name, envs: own.map((s) => s.env), resources };
  });
  const deps = new Map<string, Dependency>();
  for (const stack of stacks) {
    for (const source of stack.readsFrom) {
      const from = byName.get(source);
      if (!from) continue;
      const key = `${layerOf(from)}->${layerOf(stack)}`;
      const envs = [...(deps.get(key)?.envs ?? []), stack.env];
      deps.set(key, { from: layerOf(from), to: layerOf(stack), envs });
    }
  }
  // Deterministic order: layers by depth in the dependency graph, then by name.
  const depth = new Map<string, number>();
  const depthOf = (layer: string, seen: Set<string> = new Set()): number => {
    const known = depth.get(layer);
    if (known !== undefined) return known;
    if (seen.has(layer)) throw new Error(`stack layers depend on each other in a cycle through "${layer}"`);
    seen.add(layer);
    const parents = [...deps.values()].filter((d) => d.to === layer).map((d) => depthOf(d.from, seen));
    const value = parents.length === 0 ? 0 : Math.max(...parents) + 1;
    depth.set(layer, value);
    return value;
  };
  const sortEnvs = (envs: readonly string[]) =>
    [...envs].sort((a, b) => envOrder.indexOf(a) - envOrder.indexOf(b));
  return {
    layers: layers
      .map((l) => ({ ...l, envs: sortEnvs(l.envs) }))
      .sort((a, b) => depthOf(a.name) - depthOf(b.name) || a.name.localeCompare(b.name)),
    dependencies: [...deps.values()]
      .map((d) => ({ ...d, envs: sortEnvs(d.envs) }))
      .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
  };
}

/** The architecture diagram in Graphviz DOT: the same input always gives the same text. */
export function renderDot(stacks: readonly StackData[], catalog: CatalogView): string {
  const { layers, dependencies } = layersOf(stacks);
  const allEnvs = [...new Set(stacks.map((s) => s.env))];
  const only = (envs: readonly string[], of: readonly string[]) =>
    envs.length === of.length ? "" : ` (${envs.join(", ")})`;
  const out: string[] = [];
  out.push("// Generated by `npm run docs:diagram` (tools/diagram) from the synthesized stacks and the");
  out.push("// service catalog. Do not edit: a test fails when this file is stale.");
  out.push("digraph architecture {");
  out.push(
    `  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.15, ranksep=0.7, fontname="${FONT}", fontsize=18, labelloc=t, label=${html(
      `<B>Event platform blueprint</B><BR/><FONT POINT-SIZE="12">Terraform stacks of every environment (${allEnvs.join(
        ", ",
      )}), one state per stack, and the service catalog. Arrows between stacks: outputs read through terraform_remote_state.</FONT>`,
    )}];`,
  );
  out.push(
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#8c8c8c", fontname="${FONT}", fontsize=11, margin="0.12,0.04"];`,
  );
  out.push(`  edge [color="#5a5a5a", fontname="${FONT}", fontsize=10, arrowsize=0.7];`);
  out.push("");

  const anchors = new Map<string, string>();
  const roles = new Map<string, { id: string; count: number }[]>();
  for (const layer of layers) {
    out.push(`  subgraph ${id(`cluster_${layer.name}`)} {`);
    out.push(
      `    graph [label=${html(
        `<B>&lt;env&gt;-${esc(layer.name)}</B>${only(layer.envs, allEnvs) ? `<BR/><FONT POINT-SIZE="10">only in ${esc(layer.envs.join(", "))}</FONT>` : ""}`,
      )}, style="rounded,filled", fillcolor="${fill(layer.name)}", color="#b0b0b0", fontsize=13, margin=10];`,
    );
    const nodes =
      layer.resources.length > 0
        ? layer.resources
        : [{ type: "", label: "no key resources", envs: [], maxCount: 0 }];
    const ids = nodes.map((r) => `${layer.name}:${r.type}`);
    // One column per stack: its resources share a rank, the stacks it reads from sit to its left.
    out.push(`    { rank=same; ${ids.map(id).join("; ")}; }`);
    for (const r of nodes) {
      const nodeId = `${layer.name}:${r.type}`;
      if (!anchors.has(layer.name)) anchors.set(layer.name, nodeId);
      if ("role" in r && r.role)
        roles.set(r.role, [...(roles.get(r.role) ?? []), { id: nodeId, count: r.maxCount }]);
      const envNote = only(r.envs, layer.envs);
      out.push(
        `    ${id(nodeId)} [label=${html(
          `${esc(r.label)}${envNote ? `<BR/><FONT POINT-SIZE="9" COLOR="#a04000">${esc(envNote.trim())}</FONT>` : ""}${
            r.type ? `<BR/><FONT POINT-SIZE="8" COLOR="#707070">${esc(r.type)}</FONT>` : ""
          }`,
        )}];`,
      );
    }
    out.push("  }");
  }
  out.push("");

  out.push(`  subgraph cluster_catalog {`);
  out.push(
    `    graph [label=${html(
      '<B>Service catalog</B><BR/><FONT POINT-SIZE="10">services/service-kit/src/catalog.ts</FONT>',
    )}, style="rounded,filled", fillcolor="#fdf6e3", color="#c8b88a", fontsize=13, margin=10];`,
  );
  const topicNames = new Set(catalog.topics.map((t) => t.name));
  for (const service of catalog.services) {
    out.push(
      `    ${id(`service:${service.name}`)} [label=${html(
        `<B>${esc(service.name)}</B><BR/><FONT POINT-SIZE="9">:${service.port} · schema ${esc(service.database.schema)}</FONT>`,
      )}, fillcolor="#fff3c4", color="#b59b3b"];`,
    );
  }
  for (const topic of catalog.topics) {
    if (topic.name.endsWith(".dlt") && topicNames.has(topic.name.slice(0, -".dlt".length))) continue;
    const dlt = catalog.topics.find((t) => t.name === `${topic.name}.dlt`);
    out.push(
      `    ${id(`topic:${topic.name}`)} [shape=cds, style=filled, fillcolor="#e3f0fb", color="#5b8db8", label=${html(
        `${esc(topic.name)}<BR/><FONT POINT-SIZE="9">${topic.partitions} partitions${
          dlt ? ` · dead letters ${esc(dlt.name)} (${dlt.partitions})` : ""
        }</FONT>`,
      )}];`,
    );
  }
  for (const service of catalog.services) {
    for (const topic of service.produces) {
      out.push(
        `    ${id(`service:${service.name}`)} -> ${id(`topic:${topic}`)} [label="produces", color="#2f6f9f"];`,
      );
    }
    for (const topic of service.consumes) {
      out.push(
        `    ${id(`topic:${topic}`)} -> ${id(`service:${service.name}`)} [label="consumes", color="#2f6f9f"];`,
      );
    }
  }
  out.push("  }");
  out.push("");

  for (const dep of dependencies) {
    const from = anchors.get(dep.from);
    const to = anchors.get(dep.to);
    if (!from || !to) continue;
    const layerEnvs = layers.find((l) => l.name === dep.to)?.envs ?? allEnvs;
    const note = only(dep.envs, layerEnvs);
    out.push(
      `  ${id(from)} -> ${id(to)} [ltail=${id(`cluster_${dep.from}`)}, lhead=${id(`cluster_${dep.to}`)}${
        note ? `, label=${id(note.trim())}` : ""
      }];`,
    );
  }

  // Where the catalog meets the infrastructure.
  const first = catalog.services[0];
  const firstTopic = catalog.topics[0];
  const strongest = (role: string) =>
    [...(roles.get(role) ?? [])].sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  // Labels at the infrastructure end: these edges are long, and a mid-edge label would float.
  const link = `style=dashed, constraint=false, color="#b59b3b", labelfontcolor="#7a6420", labelfontsize=10, labeldistance=2.2, labelangle=-25`;
  if (first) {
    const service = id(`service:${first.name}`);
    const entry = strongest("entry")[0];
    if (entry)
      out.push(`  ${id(entry.id)} -> ${service} [lhead=cluster_catalog, taillabel="HTTPS", ${link}];`);
    // Each compute path (ECS services, Deployments) runs the services where it has the most of its
    // kind: the collector's one ECS service does not, nor does the autoscaler's Deployment count against it.
    const byType = new Map<string, { id: string; count: number }>();
    for (const runner of strongest("runs")) {
      const type = runner.id.slice(runner.id.indexOf(":") + 1);
      if (!byType.has(type)) byType.set(type, runner);
    }
    for (const runner of byType.values()) {
      out.push(`  ${id(runner.id)} -> ${service} [lhead=cluster_catalog, taillabel="runs", ${link}];`);
    }
    const db = strongest("database")[0];
    if (db) out.push(`  ${service} -> ${id(db.id)} [ltail=cluster_catalog, headlabel="schemas", ${link}];`);
  }
  const kafka = strongest("kafka")[0];
  if (kafka && firstTopic) {
    out.push(
      `  ${id(`topic:${firstTopic.name}`)} -> ${id(kafka.id)} [ltail=cluster_catalog, headlabel="topics", ${link}];`,
    );
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

/** Background colour per layer, by name; unknown layers are grey. */
function fill(layer: string): string {
  const colors: Record<string, string> = {
    bootstrap: "#f2f2f2",
    network: "#eef5ee",
    data: "#eef1fa",
    messaging: "#eef1fa",
    edge: "#fbeeee",
    compute: "#f3eefa",
    workloads: "#f3eefa",
    observability: "#eef8f8",
  };
  return colors[layer] ?? "#f2f2f2";
}

function id(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function html(text: string): string {
  return `<${text}>`;
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
