import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { Construct } from "constructs";

export type PolicyStatement = DataAwsIamPolicyDocumentStatement;

/**
 * An IAM policy document as a data source, so the synthesized JSON keeps each statement structured
 * (reviewable in plans, checked by the policy tests). Fails fast on a wildcard action: every
 * statement names the actions it needs.
 */
export function policyDocument(
  scope: Construct,
  id: string,
  statements: readonly PolicyStatement[],
): DataAwsIamPolicyDocument {
  for (const statement of statements) {
    const actions = [
      ...((statement.actions as string[] | undefined) ?? []),
      ...((statement.notActions as string[] | undefined) ?? []),
    ];
    const wildcard = actions.find((a) => typeof a === "string" && a.includes("*"));
    if (wildcard) {
      throw new Error(
        `${scope.node.path}/${id}: wildcard action "${wildcard}" is not allowed; list the actions the statement needs`,
      );
    }
  }
  return new DataAwsIamPolicyDocument(scope, id, { statement: [...statements] });
}
