import type { Server } from "node:http";
import type { AuthScope } from "@blueprint/service-kit";
import { ALL_SCOPES, devToken } from "@blueprint/service-kit/dev-tokens";
import request from "supertest";

/** A development-issuer token for `sub` with `scopes` (none: owner access only). */
export function tokenFor(sub: string, scopes: readonly AuthScope[] = []): string {
  return devToken({ sub, scopes });
}

/** A token holding every scope, for tests about something other than authorization. */
export function adminToken(): string {
  return tokenFor("test-admin", ALL_SCOPES);
}

/** The `authorization` header value of `token`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/**
 * supertest against `target`, every request carrying `token` (by default one holding every scope,
 * for tests about something other than authorization).
 */
export function api(target: Server | string, token: string = adminToken()) {
  const client = request(target);
  const header = bearer(token);
  return {
    get: (url: string) => client.get(url).set("authorization", header),
    post: (url: string) => client.post(url).set("authorization", header),
    put: (url: string) => client.put(url).set("authorization", header),
    patch: (url: string) => client.patch(url).set("authorization", header),
    delete: (url: string) => client.delete(url).set("authorization", header),
  };
}
