import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { GENERATED_DIR, generatedFiles, REPO_ROOT, RULES_DIR } from "./generate";
import { GRAFANA_DASHBOARDS_DIR, GRAFANA_PROVISIONING_DIR } from "./grafana/provisioning";

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : [path.relative(REPO_ROOT, full)];
  });
}

describe("generated observability files", () => {
  const files = generatedFiles();

  it.each(Object.keys(files))(
    "When %s is regenerated from the registry, then it equals the committed file",
    (file) => {
      const committed = path.join(REPO_ROOT, file);
      expect(fs.existsSync(committed), `${file} is missing: run npm run dashboards:generate`).toBe(true);
      expect(fs.readFileSync(committed, "utf8"), `${file} is stale: run npm run dashboards:generate`).toBe(
        files[file],
      );
    },
  );

  it("When dashboards/generated is listed, then it holds only files the generator writes", () => {
    const stale = filesUnder(path.join(REPO_ROOT, GENERATED_DIR)).filter((f) => !(f in files));
    expect(stale, "remove them or run npm run dashboards:generate").toEqual([]);
  });

  it("When docker-compose-local.yml mounts the generated files, then each lands where the configs expect it", () => {
    const compose = parse(fs.readFileSync(path.join(REPO_ROOT, "docker-compose-local.yml"), "utf8")) as {
      services: Record<string, { volumes?: string[] }>;
    };
    const mounts = new Map<string, string>();
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const [source, target] = volume.split(":");
        if (source && target)
          mounts.set(path.normalize(source).replace(/\/$/, ""), target.replace(/\/$/, ""));
      }
    }
    const config = mounts.get(`${GENERATED_DIR}/prometheus.compose.yml`);
    const rules = mounts.get(RULES_DIR);
    // Rule files are referenced relative to the config file (rules/*.rules.yml).
    if (config !== undefined || rules !== undefined)
      expect(rules).toBe(`${path.posix.dirname(config ?? "")}/rules`);
    const provisioning = mounts.get("compose/grafana/provisioning");
    if (provisioning !== undefined) expect(provisioning).toBe(GRAFANA_PROVISIONING_DIR);
    const grafanaDashboards = mounts.get(`${GENERATED_DIR}/grafana`);
    if (grafanaDashboards !== undefined) expect(grafanaDashboards).toBe(GRAFANA_DASHBOARDS_DIR);
  });
});
