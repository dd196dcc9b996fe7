import { describe, expect, it } from "vitest";
import { SENSITIVE, UNKNOWN } from "../src/attributes";
import { renderJson } from "../src/render/json";
import { renderMarkdown } from "../src/render/markdown";
import { renderPrometheus } from "../src/render/prometheus";
import { entry, reportOf } from "./helpers";

describe("reading pending changes", () => {
  const report = reportOf("create-update-delete.json");

  it("When a plan creates, updates, deletes and reads, then each resource appears once with its action", () => {
    const actions = Object.fromEntries(report.pending.map((e) => [e.address, e.action]));
    expect(actions).toEqual({
      "aws_cloudwatch_log_group.api": "create",
      "aws_ecs_service.user_service": "update",
      "aws_sqs_queue.legacy": "delete",
      "aws_lb.public": "update",
      "data.aws_iam_policy_document.assume": "read",
      "aws_iam_role_policy.user_service": "update",
      "aws_security_group.services": "update",
    });
    expect(report.summary).toMatchObject({ drifted: 0, pending: 7 });
    expect(report.summary.actions).toMatchObject({ create: 1, update: 4, delete: 1, read: 1, replace: 0 });
  });

  it("When a resource has no changes (no-op), then it is left out", () => {
    expect([...report.drift, ...report.pending].map((e) => e.address)).not.toContain("aws_vpc.main");
  });

  it("When an attribute changes, then the report shows its path with before and after", () => {
    expect(entry(report, "aws_ecs_service.user_service").attributes).toEqual([
      { path: "desired_count", before: 2, after: 3 },
    ]);
  });

  it("When a resource is created, then attributes Terraform learns on apply read (known after apply)", () => {
    const created = entry(report, "aws_cloudwatch_log_group.api");
    expect(created.attributes).toContainEqual({
      path: "arn",
      before: null,
      after: UNKNOWN,
      afterUnknown: true,
    });
    expect(created.attributes).toContainEqual({ path: "retention_in_days", before: null, after: 30 });
    expect(created.attributes).toContainEqual({ path: "tags.Service", before: null, after: "user-service" });
  });

  it("When a nested list gains an element, then each new leaf is listed by its full path", () => {
    const paths = entry(report, "aws_security_group.services").attributes.map((a) => a.path);
    expect(paths).toContain("ingress[1].cidr_blocks[0]");
    expect(paths).not.toContain("ingress[0].cidr_blocks[0]");
  });

  it("When a resource is deleted, then it is listed without attribute noise, with Terraform's reason", () => {
    expect(entry(report, "aws_sqs_queue.legacy")).toMatchObject({
      attributes: [],
      actionReason: "delete_because_no_resource_config",
    });
  });
});

describe("severity", () => {
  it("When a database is replaced or a bucket deleted, then the change is critical", () => {
    const report = reportOf("replace-stateful.json");
    expect(entry(report, "aws_db_instance.main")).toMatchObject({ action: "replace", severity: "critical" });
    expect(entry(report, "aws_s3_bucket.assets")).toMatchObject({ action: "delete", severity: "critical" });
    expect(report.summary.severity.critical).toBe(2);
  });

  it("When a stateless resource is replaced, then the change is medium and names what forces it", () => {
    const taskDefinition = entry(reportOf("replace-stateful.json"), "aws_ecs_task_definition.user_service");
    expect(taskDefinition.severity).toBe("medium");
    expect(taskDefinition.attributes.find((a) => a.path === "cpu")).toMatchObject({
      forcesReplacement: true,
    });
    expect(taskDefinition.attributes.find((a) => a.path === "arn")?.forcesReplacement).toBeUndefined();
  });

  it("When a security group rule or an IAM policy changes, then the change is high", () => {
    const report = reportOf("create-update-delete.json");
    expect(entry(report, "aws_security_group.services").severity).toBe("high");
    expect(entry(report, "aws_iam_role_policy.user_service").severity).toBe("high");
  });

  it("When a policy document changes, then the statement that changed is listed, not the whole string", () => {
    expect(
      entry(reportOf("create-update-delete.json"), "aws_iam_role_policy.user_service").attributes,
    ).toEqual([{ path: "policy.Statement[0].Action[1]", before: null, after: "kafka-cluster:WriteData" }]);
  });

  it("When only tags change, then the change is low", () => {
    expect(entry(reportOf("create-update-delete.json"), "aws_lb.public")).toMatchObject({
      severity: "low",
      severityReason: "tags only",
    });
  });

  it("When a password changes, then the change is high", () => {
    expect(entry(reportOf("sensitive-unknown.json"), "aws_db_instance.main").severity).toBe("high");
  });

  it("When anything else changes, then the change is medium", () => {
    expect(entry(reportOf("create-update-delete.json"), "aws_ecs_service.user_service").severity).toBe(
      "medium",
    );
  });
});

describe("sensitive and unknown values", () => {
  const report = reportOf("sensitive-unknown.json", { env: "dev", stack: "dev-data" });
  const secrets = ["old-secret-password", "new-secret-password", "hunter2", "old-pw", "new-pw"];

  it("When a value is sensitive, then it is masked on both sides and still reported as changed", () => {
    expect(entry(report, "aws_db_instance.main").attributes).toContainEqual({
      path: "password",
      before: SENSITIVE,
      after: SENSITIVE,
      beforeSensitive: true,
      afterSensitive: true,
    });
  });

  it("When a sensitive value sits deep in a block, then only that value is masked", () => {
    const lambda = entry(report, "aws_lambda_function.notifier").attributes;
    expect(lambda).toContainEqual({
      path: "environment[0].variables.LOG_LEVEL",
      before: "info",
      after: "debug",
    });
    expect(lambda.find((a) => a.path === "environment[0].variables.SMTP_PASSWORD")).toMatchObject({
      before: SENSITIVE,
      after: SENSITIVE,
    });
  });

  it("When secrets are in the plan, then no output format contains them", () => {
    const outputs = [renderJson(report), renderMarkdown(report), renderPrometheus(report, new Date())];
    for (const output of outputs) {
      for (const secret of secrets) expect(output).not.toContain(secret);
    }
    expect(renderMarkdown(report)).toContain("_(sensitive)_");
  });

  it("When a value is unknown until apply, then it reads (known after apply)", () => {
    expect(entry(report, "aws_db_instance.main").attributes).toContainEqual({
      path: "endpoint",
      before: "blueprint-dev.abc.eu-west-1.rds.amazonaws.com:5432",
      after: UNKNOWN,
      afterUnknown: true,
    });
    expect(renderMarkdown(report)).toContain("_(known after apply)_");
  });
});

describe("moved, imported and forgotten resources", () => {
  const report = reportOf("moved-imported.json");

  it("When a resource only moved, then it is shown as a move with its old address", () => {
    expect(entry(report, "aws_s3_bucket.assets")).toMatchObject({
      action: "move",
      previousAddress: "aws_s3_bucket.static",
      severity: "low",
    });
  });

  it("When a resource is imported, then it is shown as an import, with changes if any", () => {
    expect(entry(report, "module.data.aws_kms_key.data")).toMatchObject({
      action: "import",
      severity: "low",
    });
    expect(entry(report, "aws_cloudwatch_log_group.imported")).toMatchObject({
      action: "update",
      importing: true,
      attributes: [{ path: "retention_in_days", before: 0, after: 30 }],
    });
  });

  it("When a moved resource also changes, then both show", () => {
    expect(entry(report, 'aws_ecr_repository.renamed["user-service"]')).toMatchObject({
      action: "update",
      previousAddress: "aws_ecr_repository.user_service",
    });
    expect(renderMarkdown(report)).toContain("moved from `aws_ecr_repository.user_service`");
  });

  it("When a resource is removed from state but kept (forget), then it is listed", () => {
    expect(entry(report, "aws_sns_topic.old_alerts").action).toBe("forget");
    expect(report.summary.actions).toMatchObject({ move: 1, import: 1, forget: 1, update: 2 });
  });
});

describe("drift", () => {
  it("When a refresh-only plan shows changes made outside Terraform, then they are drift, not pending", () => {
    const report = reportOf("drift.json");
    expect(report.summary).toMatchObject({ drifted: 4, pending: 0 });
    expect(report.drift.map((e) => e.address)).toEqual([
      "aws_db_instance.reporting",
      "aws_security_group.database",
      "aws_ecs_service.user_service",
      "aws_s3_bucket.logs",
    ]);
    expect(report.summary.driftSeverity).toEqual({ critical: 1, high: 1, medium: 1, low: 1 });
  });

  it("When a database was deleted outside Terraform, then that drift is critical and says it is gone", () => {
    const report = reportOf("drift.json");
    expect(entry(report, "aws_db_instance.reporting")).toMatchObject({
      action: "delete",
      severity: "critical",
    });
    expect(renderMarkdown(report)).toContain("It no longer exists outside Terraform.");
    expect(renderMarkdown(reportOf("replace-stateful.json"))).toContain(
      "Terraform destroys the whole resource.",
    );
  });

  it("When a refresh-only plan and a normal plan are given, then drift and pending changes are both reported", () => {
    const report = reportOf(["drift.json", "create-update-delete.json"]);
    expect(report.summary).toMatchObject({ drifted: 4, pending: 7 });
    expect(renderMarkdown(report)).toMatch(/Drift: changed outside Terraform \(4\)[\s\S]*Pending changes/);
  });

  it("When nothing changed, then the report says so", () => {
    const report = reportOf("noop.json");
    expect(report.summary).toMatchObject({ drifted: 0, pending: 0 });
    expect(renderMarkdown(report)).toContain("No drift and no pending changes.");
  });
});
