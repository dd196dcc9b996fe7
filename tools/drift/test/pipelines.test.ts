import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadIgnoreFile } from "../src/ignore";

const github = path.resolve(__dirname, "../../../.github");
const workflowDir = path.join(github, "workflows");
const workflows = fs
  .readdirSync(workflowDir)
  .filter((name) => name.endsWith(".yml"))
  .map((name) => {
    const text = fs.readFileSync(path.join(workflowDir, name), "utf8");
    return { name, text, doc: parse(text) as Workflow };
  });

interface Job {
  permissions?: Record<string, string>;
  environment?: unknown;
  "timeout-minutes"?: number;
  uses?: string;
  concurrency?: unknown;
}
interface Workflow {
  on: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}

/** Actions from outside the repository, as written in `uses:`, with the rest of their line. */
const externalUses = (text: string) =>
  [...text.matchAll(/uses:\s*([^\s#]+)(.*)$/gm)]
    .map(([, ref, rest]) => ({ ref: ref as string, rest: rest ?? "" }))
    .filter(({ ref }) => !ref.startsWith("./"));

describe("workflows", () => {
  it.each(workflows)(
    "When $name runs, then it starts with no permissions and widens them per job",
    ({ doc }) => {
      expect(doc.permissions).toEqual({});
      for (const job of Object.values(doc.jobs)) expect(job.permissions).toBeDefined();
    },
  );

  it.each(workflows)(
    "When $name uses an action, then it is pinned by commit SHA with its version",
    ({ text }) => {
      for (const { ref, rest } of externalUses(text)) {
        expect(ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(rest).toMatch(/^\s*# v\d+\.\d+\.\d+$/);
      }
    },
  );

  it.each(workflows)("When $name runs a job, then the job has a timeout", ({ doc }) => {
    for (const job of Object.values(doc.jobs)) {
      if (!job.uses) expect(job["timeout-minutes"]).toBeGreaterThan(0);
    }
  });

  it("When a job may get AWS credentials (id-token), then it is a plan, drift, apply or deploy job", () => {
    const withIdToken = workflows.flatMap(({ name, doc }) =>
      Object.entries(doc.jobs)
        .filter(([, job]) => job.permissions?.["id-token"] === "write")
        .map(([id]) => `${name}:${id}`),
    );
    expect(withIdToken.sort()).toEqual([
      "drift.yml:check",
      "infra-apply.yml:dev",
      "infra-apply.yml:prod",
      "infra-apply.yml:staging",
      "infra-pr.yml:plan",
      "service-deploy.yml:deploy",
      "services.yml:dev",
      "services.yml:prod",
      "services.yml:staging",
      "terraform-apply.yml:apply",
    ]);
  });

  it("When applying or deploying, then jobs run in the GitHub environment and one at a time per environment", () => {
    for (const name of ["terraform-apply.yml", "service-deploy.yml"]) {
      const [job] = Object.values(workflows.find((w) => w.name === name)?.doc.jobs ?? {});
      expect(job).toMatchObject({
        // The GitHub expression, not a JavaScript template.
        environment: ["$", "{{ inputs.environment }}"].join(""),
        concurrency: { "cancel-in-progress": false },
      });
    }
  });

  it("When a workflow runs on pull requests, then its jobs name no GitHub environment and assume only the plan role", () => {
    const onPullRequests = workflows.filter(({ doc }) =>
      Object.keys((typeof doc.on === "object" && doc.on) || {}).some((e) => e.startsWith("pull_request")),
    );
    expect(onPullRequests.map((w) => w.name)).toContain("infra-pr.yml");
    for (const { name, doc, text } of onPullRequests) {
      // An environment would change the token's subject to environment:<name>, the apply role's.
      for (const [id, job] of Object.entries(doc.jobs))
        expect(job.environment, `${name}:${id}`).toBeUndefined();
      const roles = [...text.matchAll(/role-to-assume:\s*(.+)$/gm)].map(([, role]) => role);
      for (const role of roles) expect(role, name).toMatch(/-github-plan$/);
    }
  });

  it("When the environments are applied, then dev, staging and prod follow one another", () => {
    const jobs = workflows.find((w) => w.name === "infra-apply.yml")?.doc.jobs ?? {};
    expect(jobs.staging).toMatchObject({ needs: expect.arrayContaining(["dev"]) });
    expect(jobs.prod).toMatchObject({ needs: expect.arrayContaining(["staging"]) });
  });
});

describe("the repository's drift ignore file", () => {
  it("When the drift workflow reads .github/drift-ignore.yml, then it is valid and every entry has a reason", () => {
    const entries = loadIgnoreFile(path.join(github, "drift-ignore.yml"), new Date("2026-01-01T00:00:00Z"));
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.reason.length).toBeGreaterThan(20);
  });
});
