import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Profile } from "../../environments";
import { ENVIRONMENTS } from "../../environments";
import { SYNTH_APP } from "../synth/app-command";
import type { Suite } from "./suites";

export const CHECKOV_VERSION = "3.3.30";

interface Skip {
  readonly id: string;
  readonly why: string;
  /** Profiles the skip applies to; production keeps every guard the others may waive. */
  readonly profiles: readonly Profile[];
}

const ALL: readonly Profile[] = ["production", "non-production"];
const NON_PRODUCTION: readonly Profile[] = ["non-production"];

/** Every check not enforced, and why. Anything else failing fails the test command. */
export const CHECKOV_SKIPS: readonly Skip[] = [
  // The one Lambda function is the topic provisioner, invoked synchronously by Terraform.
  {
    id: "CKV_AWS_116",
    profiles: ALL,
    why: "a dead-letter queue only catches asynchronous invocations; Terraform invokes the topic provisioner synchronously and fails the apply on error",
  },
  {
    id: "CKV_AWS_115",
    profiles: ALL,
    why: "reserved concurrency fails in new accounts whose limit is 10 (Lambda keeps 10 unreserved); the provisioner runs once per apply",
  },
  {
    id: "CKV_AWS_272",
    profiles: ALL,
    why: "the provisioner's package is built from the reviewed repository at synthesis and pinned by its hash in the reviewed plan",
  },
  {
    id: "CKV_AWS_173",
    profiles: ALL,
    why: "the provisioner's only environment variable is the broker list, which is not secret",
  },
  {
    id: "CKV_AWS_50",
    profiles: ALL,
    why: "X-Ray tracing of a one-shot provisioner adds permissions and cost for no operational question it answers",
  },
  {
    id: "CKV_AWS_378",
    profiles: ALL,
    why: "TLS ends at the ALB; targets are reached over HTTP inside the VPC, and port 80 only redirects to 443",
  },
  {
    id: "CKV_AWS_260",
    profiles: ALL,
    why: "port 80 is open on the public ALB only to answer with a redirect to HTTPS",
  },
  {
    id: "CKV_AWS_145",
    profiles: ALL,
    why: "ALB access logs can only be delivered to SSE-S3 buckets, not SSE-KMS; the bucket is encrypted with AES-256",
  },
  {
    id: "CKV_AWS_18",
    profiles: ALL,
    why: "the buckets are a log sink and the state store; S3 server access logs would need another bucket to log to, CloudTrail data events are the audit trail",
  },
  {
    id: "CKV_AWS_144",
    profiles: ALL,
    why: "cross-region replication is a disaster-recovery decision per organisation; state and logs are versioned in-region",
  },
  { id: "CKV2_AWS_62", profiles: ALL, why: "nothing consumes bucket event notifications" },
  {
    id: "CKV2_AWS_5",
    profiles: ALL,
    why: "the network stack creates the shared security groups; other stacks attach them, which checkov cannot follow across stacks",
  },
  {
    id: "CKV2_AWS_57",
    profiles: ALL,
    why: "service credentials are written by the database bootstrap; rotation needs a rotation Lambda per secret type, listed as follow-up in the README",
  },
  {
    id: "CKV_AWS_192",
    profiles: ALL,
    why: "false positive on CDKTF JSON: the KnownBadInputs group (Log4JRCE) is applied with override none, asserted by the edge tests",
  },
  {
    id: "CKV2_AWS_76",
    profiles: ALL,
    why: "same as CKV_AWS_192: the Log4j managed rule group is attached, asserted by the edge tests",
  },
  {
    id: "CKV2_AWS_15",
    profiles: ALL,
    why: "the EKS node group's Auto Scaling group keeps EC2 health checks: an ELB check would replace a whole node when one service's pods are unready",
  },
  {
    id: "CKV_K8S_43",
    profiles: ALL,
    why: "ECR tags are immutable, so a tag names one digest; the pipeline deploys by tag",
  },
  {
    id: "CKV_AWS_338",
    profiles: NON_PRODUCTION,
    why: "dev and staging keep logs 30 and 90 days for cost; production keeps them a year",
  },
  {
    id: "CKV_AWS_150",
    profiles: NON_PRODUCTION,
    why: "dev and staging load balancers can be torn down; production has deletion protection",
  },
  {
    id: "CKV_AWS_293",
    profiles: NON_PRODUCTION,
    why: "dev databases are disposable; staging and production have deletion protection",
  },
  {
    id: "CKV_AWS_157",
    profiles: NON_PRODUCTION,
    why: "dev runs a single-AZ database for cost; staging and production are multi-AZ",
  },
  {
    id: "CKV2_AWS_28",
    profiles: NON_PRODUCTION,
    why: "dev runs without WAF for cost; staging and production have it",
  },
];

/** The IAM write checks a boundary fails by design: it allows every action but those it refuses. */
const BOUNDARY_CHECKS = [
  "CKV_AWS_107",
  "CKV_AWS_108",
  "CKV_AWS_109",
  "CKV_AWS_110",
  "CKV_AWS_111",
  "CKV_AWS_356",
];

/**
 * Checks waived for one resource only (a `resource` prefix as checkov names it, before the
 * construct hash), because the resource does on purpose what the check forbids in general.
 */
export const CHECKOV_RESOURCE_WAIVERS: readonly { ids: readonly string[]; resource: string; why: string }[] =
  [
    {
      ids: BOUNDARY_CHECKS,
      resource: "data.Pipeline_ApplyBoundaryDocument_",
      why: "the apply role's permissions boundary (NotAction on *) caps the role, it grants nothing; its denies are asserted by the IAM and policy tests (decision 0029)",
    },
    {
      ids: BOUNDARY_CHECKS,
      resource: "data.Pipeline_WorkloadBoundaryDocument_",
      why: "the boundary of every role the pipeline creates (NotAction on *) caps them, it grants nothing; it refuses IAM identity and policy changes (decision 0029)",
    },
  ];

/** Whether a failed check is waived for its resource. */
function waived(failure: { check_id: string; resource: string }): boolean {
  return CHECKOV_RESOURCE_WAIVERS.some(
    (w) => w.ids.includes(failure.check_id) && failure.resource.startsWith(w.resource),
  );
}

export interface CheckovReport {
  results?: {
    failed_checks?: Array<{ check_id: string; check_name: string; resource: string; file_path: string }>;
    /** Files checkov could not parse, and so checked nothing in. */
    parsing_errors?: string[];
  };
  summary?: { passed: number; failed: number };
}

/** Installs the pinned checkov into a virtualenv under .local once. */
function ensureCheckov(localDir: string): string {
  const venv = path.join(localDir, "venv", `checkov-${CHECKOV_VERSION}`);
  const binary = path.join(venv, "bin", "checkov");
  if (fs.existsSync(binary)) return binary;
  console.log(`installing checkov ${CHECKOV_VERSION} from PyPI into ${venv}`);
  const steps: [string, string[]][] = [
    ["python3", ["-m", "venv", venv]],
    [
      path.join(venv, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", `checkov==${CHECKOV_VERSION}`],
    ],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { stdio: "inherit" });
    if (result.status !== 0) {
      fs.rmSync(venv, { recursive: true, force: true });
      throw new Error(
        `${command} ${args.join(" ")} failed; checkov needs python3 with venv (apt-get install -y python3-venv)`,
      );
    }
  }
  return binary;
}

type TerraformJson = { terraform?: Record<string, unknown> } & Record<string, unknown>;

/**
 * The stack as checkov reads it. checkov 3.3.30's terraform_json parser fails on the
 * `terraform.required_version` string (it reads every key of the `terraform` block as a nested
 * block) and then checks nothing in that file, so the copy it reads goes without it; the stacks
 * Terraform runs keep it (stacks/protection.test.ts). The probe below says when this can go.
 */
export function withoutRequiredVersion(json: TerraformJson): TerraformJson {
  const { required_version: _, ...terraform } = json.terraform ?? {};
  return { ...json, terraform };
}

/**
 * A stack with `required_version` kept, checked beside the first environment's stacks: while
 * checkov cannot parse it, the workaround above is needed; once it can, the suite fails and says
 * to remove both.
 */
export const REQUIRED_VERSION_PROBE = "required-version-probe";

/** What a report says of each stack (its failed checks, or that checkov could not parse it) and of the probe. */
export function judgeReport(
  report: CheckovReport,
  files: ReadonlyMap<string, string>,
  probeFile?: string,
): { readonly problems: ReadonlyMap<string, readonly string[]>; readonly probeProblem?: string } {
  const failures = (report.results?.failed_checks ?? []).filter((f) => !waived(f));
  // checkov names unparsed files by absolute path, failures by path relative to where it ran.
  const unparsed = (report.results?.parsing_errors ?? []).map((file) => path.resolve(file));
  const problems = new Map<string, string[]>();
  for (const [stack, file] of files) {
    problems.set(stack, [
      ...(unparsed.includes(path.resolve(file)) ? ["checkov could not parse it, so it checked nothing"] : []),
      ...failures
        .filter((f) => f.file_path.endsWith(`/${stack}/cdk.tf.json`))
        .map((f) => `${f.check_id} ${f.resource}: ${f.check_name}`),
    ]);
  }
  const probeProblem =
    probeFile && !unparsed.includes(path.resolve(probeFile))
      ? `checkov ${CHECKOV_VERSION} parses terraform.required_version now: remove withoutRequiredVersion and its probe from scripts/test/checkov.ts`
      : undefined;
  return { problems, probeProblem };
}

/** Synthesizes every environment, then runs checkov on each stack with its profile's skip list. */
export function checkovSuite(localDir: string): Suite {
  return {
    name: "security policy (checkov)",
    async run(env) {
      const outdir = path.join(localDir, "checkov-synth");
      fs.rmSync(outdir, { recursive: true, force: true });
      const synth = spawnSync(SYNTH_APP.command, SYNTH_APP.args, {
        cwd: SYNTH_APP.cwd,
        env: { ...env, CDKTF_OUTDIR: outdir },
        stdio: "inherit",
      });
      if (synth.status !== 0) return { passed: 0, failed: 1, skipped: 0 };
      const synthesized = path.join(outdir, "stacks");
      const readable = path.join(outdir, "checkov");
      const checkov = ensureCheckov(localDir);
      let passed = 0;
      let failed = 0;
      for (const [index, environment] of ENVIRONMENTS.entries()) {
        const skips = CHECKOV_SKIPS.filter((s) => s.profiles.includes(environment.profile)).map((s) => s.id);
        const files = new Map<string, string>();
        for (const stack of fs.readdirSync(synthesized).filter((s) => s.startsWith(`${environment.name}-`))) {
          const json = JSON.parse(
            fs.readFileSync(path.join(synthesized, stack, "cdk.tf.json"), "utf8"),
          ) as TerraformJson;
          const file = path.join(readable, stack, "cdk.tf.json");
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, JSON.stringify(withoutRequiredVersion(json)));
          files.set(stack, file);
        }
        let probeFile: string | undefined;
        if (index === 0) {
          const [first] = files.keys();
          probeFile = path.join(readable, REQUIRED_VERSION_PROBE, "cdk.tf.json");
          fs.mkdirSync(path.dirname(probeFile), { recursive: true });
          fs.copyFileSync(path.join(synthesized, first as string, "cdk.tf.json"), probeFile);
        }
        // One checkov process per environment: its start-up dominates the run time.
        const result = spawnSync(
          checkov,
          [
            ...[...files.values(), ...(probeFile ? [probeFile] : [])].flatMap((file) => ["--file", file]),
            "--framework",
            "terraform_json",
            "--skip-download",
            "--output",
            "json",
            "--skip-check",
            skips.join(","),
          ],
          { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...env, BC_SKIP_MAPPING: "TRUE" } },
        );
        let report: CheckovReport;
        try {
          report = JSON.parse(result.stdout) as CheckovReport;
        } catch {
          console.error(
            `checkov ${environment.name}: no JSON report (exit ${result.status})\n${result.stderr}`,
          );
          failed += files.size;
          continue;
        }
        const { problems, probeProblem } = judgeReport(report, files, probeFile);
        for (const [stack, own] of problems) {
          if (own.length === 0) {
            passed++;
            console.log(`ok   ${stack}`);
          } else {
            failed++;
            console.log(`FAIL ${stack}: ${own.length} problems`);
            for (const line of own) console.log(`     ${line}`);
          }
        }
        if (probeProblem) {
          failed++;
          console.log(`FAIL ${REQUIRED_VERSION_PROBE}: ${probeProblem}`);
        } else if (probeFile) {
          passed++;
          console.log(`ok   ${REQUIRED_VERSION_PROBE}: checkov still cannot parse required_version`);
        }
        console.log(
          `${environment.name}: ${report.summary?.passed ?? 0} checks passed, ${report.summary?.failed ?? 0} failed (waived ones included)`,
        );
      }
      console.log(
        `skipped checks, each with its reason, are listed in scripts/test/checkov.ts (${CHECKOV_SKIPS.length}, and ${CHECKOV_RESOURCE_WAIVERS.length} for single resources)`,
      );
      return { passed, failed, skipped: 0 };
    },
  };
}
