import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { layersOf, renderDot } from "../src/dot";
import { DOT_PATH, generateDot, SVG_PATH } from "../src/generate";
import { readSynthesized, type StackData } from "../src/stacks";
import { sha256, stampSvg, svgStamp } from "../src/svg";

const root = path.resolve(__dirname, "../../..");
const REGENERATE =
  "run `npm run docs:diagram` (needs Graphviz: apt-get install graphviz) and commit both files";

function stack(name: string, env: string, types: string[], readsFrom: string[] = []): StackData {
  return { name, env, resourceTypes: new Map(types.map((t) => [t, 1])), readsFrom };
}

describe("architecture diagram", () => {
  it("When the stacks or the catalog change, then the committed docs/architecture.dot is regenerated", () => {
    const committed = fs.readFileSync(path.join(root, DOT_PATH), "utf8");
    expect(committed, `docs/architecture.dot is stale: ${REGENERATE}`).toBe(generateDot());
  });

  it("When the committed SVG is read, then it was rendered from the committed DOT", () => {
    const dot = fs.readFileSync(path.join(root, DOT_PATH), "utf8");
    const svg = fs.readFileSync(path.join(root, SVG_PATH), "utf8");
    expect(
      svgStamp(svg),
      `docs/architecture.svg was not rendered from docs/architecture.dot: ${REGENERATE}`,
    ).toBe(sha256(dot));
  });

  it("When an SVG is stamped, then the stamp names the hash of the DOT it came from", () => {
    const svg = stampSvg('<?xml version="1.0"?>\n<svg width="1"></svg>\n', "digraph a {}\n");
    expect(svgStamp(svg)).toBe(sha256("digraph a {}\n"));
    expect(svgStamp("<svg></svg>")).toBeUndefined();
    expect(() => stampSvg("not svg", "")).toThrow(/no <svg>/);
  });

  it("When stacks of several environments are merged by layer, then environment-only resources and layers are named", () => {
    const stacks = [
      stack("dev-network", "dev", ["aws_vpc"]),
      stack("dev-compute", "dev", ["aws_ecs_cluster"], ["dev-network"]),
      stack("prod-network", "prod", ["aws_vpc", "aws_nat_gateway"]),
      stack("prod-compute", "prod", ["aws_eks_cluster"], ["prod-network"]),
      stack("prod-workloads", "prod", ["kubernetes_deployment_v1"], ["prod-compute"]),
    ];
    const { layers, dependencies } = layersOf(stacks);
    expect(layers.map((l) => l.name)).toEqual(["network", "compute", "workloads"]);
    expect(layers[0]?.resources.map((r) => [r.type, r.envs])).toEqual([
      ["aws_vpc", ["dev", "prod"]],
      ["aws_nat_gateway", ["prod"]],
    ]);
    expect(dependencies).toEqual([
      { from: "compute", to: "workloads", envs: ["prod"] },
      { from: "network", to: "compute", envs: ["dev", "prod"] },
    ]);
    const dot = renderDot(stacks, { services: [], topics: [] });
    expect(dot).toContain('"cluster_workloads"');
    expect(dot).toContain("only in prod");
    expect(dot).toContain("EKS cluster<BR/>");
    expect(dot).toMatch(
      /"network:aws_vpc" -> "compute:aws_ecs_cluster" \[ltail="cluster_network", lhead="cluster_compute"\]/,
    );
  });

  it("When a synthesized folder is read, then cross-stack reads are found by the remote state's S3 location", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-"));
    const write = (name: string, json: unknown) => {
      fs.mkdirSync(path.join(dir, "stacks", name), { recursive: true });
      fs.writeFileSync(path.join(dir, "stacks", name, "cdk.tf.json"), JSON.stringify(json));
    };
    write("qa-network", {
      terraform: { backend: { s3: { bucket: "b", key: "qa/net.tfstate" } } },
      resource: { aws_vpc: { main: {} } },
    });
    write("qa-data", {
      terraform: { backend: { s3: { bucket: "b", key: "qa/data.tfstate" } } },
      data: {
        terraform_remote_state: { x: { backend: "s3", config: { bucket: "b", key: "qa/net.tfstate" } } },
      },
      resource: { aws_db_instance: { main: {} }, aws_kms_key: { a: {}, b: {} } },
    });
    fs.writeFileSync(
      path.join(dir, "manifest.json"),
      JSON.stringify({
        stacks: {
          "qa-network": { synthesizedStackPath: "stacks/qa-network/cdk.tf.json" },
          "qa-data": { synthesizedStackPath: "stacks/qa-data/cdk.tf.json" },
        },
      }),
    );
    try {
      const stacks = readSynthesized(dir, ["qa"]);
      expect(stacks.map((s) => [s.name, s.env, s.readsFrom])).toEqual([
        ["qa-data", "qa", ["qa-network"]],
        ["qa-network", "qa", []],
      ]);
      expect(stacks[0]?.resourceTypes.get("aws_kms_key")).toBe(2);
      expect(() => readSynthesized(dir, ["prod"])).toThrow(/belongs to none of the environments prod/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
