import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { IAspect } from "cdktf";
import type { IConstruct } from "constructs";

/**
 * Gives every IAM role in the scope the same permissions boundary. Applied to each stack the apply
 * pipeline deploys, so a role added by any module carries the boundary without knowing of it, and
 * the apply role (which may only create roles that carry it) can apply it.
 */
export class PermissionsBoundary implements IAspect {
  constructor(private readonly policyArn: string) {}

  visit(node: IConstruct): void {
    if (node instanceof IamRole) node.permissionsBoundary = this.policyArn;
  }
}
