import {
  contractEmail,
  contractText,
  defineRoute,
  EVENT_SCHEMAS,
  type IdempotencyStore,
  idempotentRoute,
  type RouteSpec,
} from "@blueprint/service-kit";
import { z } from "zod";
import type { Users } from "../domain/users";

/** The fields user.created carries: the API accepts exactly what its contract accepts. */
const contract = EVENT_SCHEMAS["user.created"].properties;
const email = contractEmail(contract.email).describe("Email address; stored and compared lower-cased.");

/** Unknown fields are rejected (400 naming them) so that a typo never passes silently. */
const CreateUserRequest = z.strictObject({
  email,
  name: contractText(contract.name).describe("Display name."),
});

const User = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  created_at: z.iso.datetime(),
});

const CREATED = 201;

const UserList = z.object({ items: z.array(User) });
const UserId = z.strictObject({ id: z.uuid().describe("User id (UUID).") });
const ByEmail = z.strictObject({ email: email.describe("Exact email to look up.") });

export function userRoutes(users: Users, idempotency: IdempotencyStore): RouteSpec[] {
  return [
    idempotentRoute(idempotency, {
      method: "POST",
      path: "/users",
      operationId: "createUser",
      summary: "Create a user; publishes user.created through the outbox",
      tags: ["users"],
      body: CreateUserRequest,
      access: { scope: "users:write" },
      audit: { resource: "user", idField: "id" },
      singleStatement: true,
      responses: {
        [CREATED]: { description: "created", schema: User },
        409: { description: "email already registered" },
      },
      handler: async ({ body }, { requestId, audit }, q) => ({
        status: CREATED,
        body: await users.create(body, requestId, q, (user, firstParam) =>
          audit.inStatement(user.id, CREATED, firstParam),
        ),
      }),
    }),
    defineRoute({
      method: "GET",
      path: "/users/{id}",
      operationId: "getUser",
      summary: "Get a user by id",
      tags: ["users"],
      params: UserId,
      access: { scope: "users:read", owner: { params: "id" } },
      responses: { 200: { description: "the user", schema: User }, 404: { description: "no such user" } },
      handler: async ({ params }) => ({ status: 200, body: await users.get(params.id) }),
    }),
    defineRoute({
      method: "GET",
      path: "/users",
      operationId: "findUsers",
      summary: "Find users by email (zero or one)",
      tags: ["users"],
      query: ByEmail,
      access: { scope: "users:read" },
      responses: { 200: { description: "matching users", schema: UserList } },
      handler: async ({ query }) => ({ status: 200, body: { items: await users.findByEmail(query.email) } }),
    }),
  ];
}
