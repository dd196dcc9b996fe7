import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadIgnoreFile } from "../src/ignore";
import { renderMarkdown } from "../src/render/markdown";
import { entry, fixture, ignoreOf, reportOf } from "./helpers";

const writeTemp = (name: string, text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-ignore-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

describe("ignore file", () => {
  it("When every drifted attribute of a resource is accepted, then the resource is listed as ignored, not drifted", () => {
    const report = reportOf("drift.json", { ignore: ignoreOf("ignore.yml"), stack: "dev-data" });
    expect(report.drift.map((e) => e.address)).toEqual([
      "aws_db_instance.reporting",
      "aws_security_group.database",
    ]);
    expect(report.summary).toMatchObject({ drifted: 2, ignored: 2 });
    expect(report.ignored).toContainEqual({
      address: "aws_ecs_service.user_service",
      kind: "drift",
      attributes: ["desired_count", "task_definition"],
      reason:
        "Application Auto Scaling sets desired_count; the services pipeline deploys new task definitions.",
      expires: "2099-12-31",
    });
    expect(renderMarkdown(report)).toContain("#### Ignored (2)");
  });

  it("When only some changed attributes are accepted, then the rest are still reported", () => {
    const ignore = loadIgnoreFile(
      writeTemp(
        "ignore.yml",
        "ignore:\n  - address: aws_ecs_service.user_service\n    attributes: [desired_count]\n    reason: autoscaling\n    expires: 2099-01-01\n",
      ),
      new Date(),
    );
    const service = entry(reportOf("drift.json", { ignore }), "aws_ecs_service.user_service");
    expect(service.attributes.map((a) => a.path)).toEqual(["task_definition"]);
    expect(service.ignoredAttributes).toEqual(["desired_count"]);
  });

  it("When an entry has no attributes, then the whole resource is ignored, only in the stacks it names", () => {
    const ignore = ignoreOf("ignore.json");
    const inDev = reportOf("drift.json", { ignore, stack: "dev-data" });
    expect(inDev.drift.map((e) => e.address)).not.toContain("aws_db_instance.reporting");
    const inProd = reportOf("drift.json", { ignore, stack: "prod-data" });
    expect(inProd.drift.map((e) => e.address)).toContain("aws_db_instance.reporting");
  });

  it("When attribute paths use wildcards or quoted keys, then they match nested attributes", () => {
    const ignore = loadIgnoreFile(
      writeTemp(
        "ignore.json",
        JSON.stringify({
          ignore: [
            {
              address: "aws_security_group.*",
              attributes: ["ingress[*].description", 'tags["kubernetes.io/cluster"]'],
              reason: "descriptions are edited in the console",
              expires: "2099-01-01",
            },
          ],
        }),
      ),
      new Date(),
    );
    const group = entry(reportOf("drift.json", { ignore }), "aws_security_group.database");
    expect(group.attributes.map((a) => a.path)).not.toContain("ingress[1].description");
    expect(group.attributes.map((a) => a.path)).toContain("ingress[1].cidr_blocks[0]");
  });

  it("When an entry has expired, then loading fails naming the entry, its reason and the date", () => {
    expect(() => ignoreOf("ignore-expired.yml", new Date("2026-03-02T06:00:00Z"))).toThrow(
      /entry 2 \(address "aws_security_group.database", reason "Temporary debugging access agreed in INC-42."\) expired on 2000-01-31/,
    );
  });

  it("When an entry expires today, then it still applies; the day after, it fails", () => {
    const file = writeTemp(
      "ignore.yml",
      "ignore:\n  - address: aws_s3_bucket.logs\n    reason: cost review\n    expires: 2026-03-02\n",
    );
    expect(loadIgnoreFile(file, new Date("2026-03-02T23:59:59Z"))).toHaveLength(1);
    expect(() => loadIgnoreFile(file, new Date("2026-03-03T00:00:00Z"))).toThrow(/expired on 2026-03-02/);
  });

  it("When an entry lacks a reason or has a malformed date, then loading fails saying what is missing", () => {
    const load = () => loadIgnoreFile(fixture("ignore-invalid.yml"), new Date());
    expect(load).toThrow(/ignore\[0\]\.reason/);
    expect(load).toThrow(/Invalid ISO date[\s\S]*ignore\[0\]\.expires/);
  });

  it("When an attribute path cannot be read, then loading fails naming the entry", () => {
    const file = writeTemp(
      "ignore.yml",
      "ignore:\n  - address: aws_vpc.main\n    attributes: ['tags[']\n    reason: x\n    expires: 2099-01-01\n",
    );
    expect(() => loadIgnoreFile(file, new Date())).toThrow(/entry 1: cannot read attribute path "tags\["/);
  });

  it("When the file is not YAML, then loading fails with the parser's message", () => {
    const file = writeTemp("ignore.yml", "ignore: [unclosed\n");
    expect(() => loadIgnoreFile(file, new Date())).toThrow(/is not valid YAML/);
  });
});
