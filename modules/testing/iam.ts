import type { SynthesizedStack } from "./synth";

/**
 * The IAM roles of synthesized stacks with everything that decides what they may do: trust, inline
 * policies, attached managed policies and permissions boundary, resolved from the references cdktf
 * writes (`${data.aws_iam_policy_document.X.json}`, `${aws_iam_role.X.name}`, ...). The policy tests
 * evaluate these the way IAM does for one principal: an explicit deny wins, then the boundary must
 * allow, then an identity policy must allow. Conditions are read conservatively: a conditional
 * allow still allows, a conditional deny does not deny.
 */

/** One statement, from a policy document data source or an inline JSON policy. */
export interface Statement {
  readonly effect: "Allow" | "Deny";
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  readonly conditional: boolean;
  readonly conditions: readonly { test: string; variable: string; values: readonly string[] }[];
}

export interface AnalysedRole {
  readonly stack: string;
  readonly name: string;
  readonly arn: string;
  readonly trust: readonly Statement[];
  readonly inline: readonly Statement[];
  /** ARNs of attached managed policies; AWS's documents are not in the synthesized JSON. */
  readonly managedPolicyArns: readonly string[];
  /** The boundary's statements, when the role has one, and its ARN. */
  readonly boundary?: { readonly arn: string; readonly statements: readonly Statement[] };
}

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/;
const DATA_REFERENCE = /^\$\{data\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/;

type Body = Record<string, unknown>;

function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return ([] as string[]).concat(value as string | string[]);
}

/**
 * Resolves the ARN references a test needs to compare with literal ARNs: buckets and roles of the
 * same stack. Other references stay as they are and match no literal pattern.
 */
function resolveArns(
  stack: SynthesizedStack,
  accountId: string,
  values: string[] | undefined,
): string[] | undefined {
  return values?.map((value) =>
    value.replace(
      /\$\{(aws_s3_bucket|aws_iam_role)\.([A-Za-z0-9_-]+)\.arn\}/g,
      (whole, type: string, id: string) => {
        const body = stack.resource[type]?.[id];
        if (!body) return whole;
        return type === "aws_s3_bucket"
          ? `arn:aws:s3:::${String(body.bucket)}`
          : `arn:aws:iam::${accountId}:role/${String(body.name)}`;
      },
    ),
  );
}

function fromDocument(doc: Body | undefined): Statement[] {
  return ((doc?.statement as Body[] | undefined) ?? []).map((s) => {
    const conditions = ((s.condition as Body[] | undefined) ?? []).map((c) => ({
      test: String(c.test),
      variable: String(c.variable),
      values: list(c.values) ?? [],
    }));
    return {
      effect: s.effect === "Deny" ? "Deny" : "Allow",
      actions: list(s.actions),
      notActions: list(s.not_actions),
      resources: list(s.resources),
      notResources: list(s.not_resources),
      conditional: conditions.length > 0,
      conditions,
    };
  });
}

function fromJson(text: string): Statement[] {
  const document = JSON.parse(text) as { Statement?: Body | Body[] };
  return ([] as Body[]).concat(document.Statement ?? []).map((s) => ({
    effect: s.Effect === "Deny" ? "Deny" : "Allow",
    actions: list(s.Action),
    notActions: list(s.NotAction),
    resources: list(s.Resource),
    notResources: list(s.NotResource),
    conditional: s.Condition !== undefined,
    conditions: [],
  }));
}

/** The statements of a policy attribute: a document reference or inline JSON. */
function statementsOf(stack: SynthesizedStack, accountId: string, policy: unknown): Statement[] {
  if (typeof policy !== "string") return [];
  const reference = DATA_REFERENCE.exec(policy);
  const statements =
    reference?.[1] === "aws_iam_policy_document"
      ? fromDocument(stack.data.aws_iam_policy_document?.[reference[2] as string])
      : policy.trim().startsWith("{")
        ? fromJson(policy)
        : [];
  return statements.map((s) => ({
    ...s,
    resources: resolveArns(stack, accountId, s.resources ? [...s.resources] : undefined),
    notResources: resolveArns(stack, accountId, s.notResources ? [...s.notResources] : undefined),
  }));
}

/** Resource id a `${aws_iam_role.X.name}` (or `.id`) reference points to, or the role whose literal name it is. */
function roleIdOf(stack: SynthesizedStack, role: unknown): string | undefined {
  if (typeof role !== "string") return undefined;
  const reference = REFERENCE.exec(role);
  if (reference?.[1] === "aws_iam_role") return reference[2];
  return Object.entries(stack.resource.aws_iam_role ?? {}).find(([, r]) => r.name === role)?.[0];
}

/** Every IAM role of the given stacks, each with its trust, policies and boundary. */
export function analyseRoles(
  stacks: ReadonlyArray<[string, SynthesizedStack]>,
  accountId: string,
): AnalysedRole[] {
  // Managed policies of every stack by ARN: a boundary may live in another stack (bootstrap).
  const policies = new Map<string, Statement[]>();
  for (const [, stack] of stacks) {
    for (const policy of Object.values(stack.resource.aws_iam_policy ?? {})) {
      policies.set(
        `arn:aws:iam::${accountId}:policy/${String(policy.name)}`,
        statementsOf(stack, accountId, policy.policy),
      );
    }
  }
  const roles: AnalysedRole[] = [];
  for (const [stackId, stack] of stacks) {
    for (const [id, role] of Object.entries(stack.resource.aws_iam_role ?? {})) {
      const name = String(role.name);
      const inline = Object.values(stack.resource.aws_iam_role_policy ?? {})
        .filter((p) => roleIdOf(stack, p.role) === id)
        .flatMap((p) => statementsOf(stack, accountId, p.policy));
      const managedPolicyArns = [
        ...(list(role.managed_policy_arns) ?? []),
        ...Object.values(stack.resource.aws_iam_role_policy_attachment ?? {})
          .filter((a) => roleIdOf(stack, a.role) === id)
          .map((a) => String(a.policy_arn)),
        ...Object.values(stack.resource.aws_iam_policy_attachment ?? {})
          .filter((a) => (list(a.roles) ?? []).some((r) => roleIdOf(stack, r) === id))
          .map((a) => String(a.policy_arn)),
      ];
      let boundary: AnalysedRole["boundary"];
      if (typeof role.permissions_boundary === "string") {
        const reference = REFERENCE.exec(role.permissions_boundary);
        const arn =
          reference?.[1] === "aws_iam_policy"
            ? `arn:aws:iam::${accountId}:policy/${String(stack.resource.aws_iam_policy?.[reference[2] as string]?.name)}`
            : role.permissions_boundary;
        // A boundary not among the stacks has no statement we can see, so it allows nothing here.
        boundary = { arn, statements: policies.get(arn) ?? [] };
      }
      roles.push({
        stack: stackId,
        name,
        arn: `arn:aws:iam::${accountId}:role/${name}`,
        trust: statementsOf(stack, accountId, role.assume_role_policy),
        inline,
        managedPolicyArns,
        boundary,
      });
    }
  }
  return roles;
}

function globMatches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, ignoreCase ? "i" : "").test(value);
}

function coversAction(s: Statement, action: string): boolean {
  if (s.actions) return s.actions.some((p) => globMatches(p, action, true));
  if (s.notActions) return !s.notActions.some((p) => globMatches(p, action, true));
  return false;
}

function coversResource(s: Statement, resource: string): boolean {
  if (s.resources) return s.resources.some((p) => globMatches(p, resource, false));
  if (s.notResources) return !s.notResources.some((p) => globMatches(p, resource, false));
  return false;
}

function allows(statements: readonly Statement[], action: string, resource: string): boolean {
  return statements.some(
    (s) => s.effect === "Allow" && coversAction(s, action) && coversResource(s, resource),
  );
}

function denies(statements: readonly Statement[], action: string, resource: string): boolean {
  return statements.some(
    (s) => s.effect === "Deny" && !s.conditional && coversAction(s, action) && coversResource(s, resource),
  );
}

export interface Evaluation {
  /**
   * Count attached managed policies as allowing the action: true where their documents may grant it
   * (a read-only policy and a secret read). The role then needs an explicit deny or a boundary that
   * does not allow it.
   */
  readonly managedMayAllow: boolean;
}

/** Whether `role` may perform `action` on `resource`, evaluated as IAM does for one principal. */
export function roleMay(role: AnalysedRole, action: string, resource: string, options: Evaluation): boolean {
  const boundary = role.boundary?.statements;
  if (denies(role.inline, action, resource)) return false;
  if (boundary && (denies(boundary, action, resource) || !allows(boundary, action, resource))) return false;
  const managed = options.managedMayAllow && role.managedPolicyArns.length > 0;
  return managed || allows(role.inline, action, resource);
}

/** Whether the role's trust admits GitHub Actions tokens with this subject (`repo:owner/name:pull_request`). */
export function trustsGithubSubject(role: AnalysedRole, subject: string): boolean {
  return role.trust.some(
    (s) =>
      s.effect === "Allow" &&
      s.conditions.some(
        (c) =>
          c.variable.endsWith(":sub") &&
          c.values.some((v) => (c.test === "StringLike" ? globMatches(v, subject, false) : v === subject)),
      ),
  );
}
