import type { Server } from "node:http";
import type { AuthScope } from "@blueprint/service-kit";
import { ALL_SCOPES, devToken } from "@blueprint/service-kit/dev-tokens";
import request from "supertest";

/** A development-issuer token for `sub` with `scopes` (none: owner access only). */
export function tokenFor(sub: string, scopes: readonly AuthScope[] = []): Promise<string> {
  return devToken({ sub, scopes });
}

/** A token holding every scope, for tests about something other than authorization. */
export function adminToken(): Promise<string> {
  return devToken({ sub: "test-admin", scopes: ALL_SCOPES });
}

/** The `authorization` header value of `token`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/**
 * supertest against `target` with a token holding every scope on every request, for tests about
 * something other than authorization.
 */
export async function asAdmin(target: Server | string) {
  return request.agent(target).set("authorization", bearer(await adminToken()));
}
