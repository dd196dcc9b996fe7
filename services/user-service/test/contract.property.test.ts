import { decodeEvent } from "@blueprint/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type request from "supertest";
import {
  type ServiceUnderTest,
  startServiceUnderTest,
  anyText as text,
} from "../../service-kit/test/support/service-under-test";
import { api } from "../../system-tests/support/auth";
import { userService } from "../src/service";

/** Addresses valid by RFC, odd ones some validators accept and others reject, and garbage. */
const email = fc.oneof(
  fc.emailAddress(),
  fc.emailAddress().map((address) => address.toUpperCase()),
  fc.constantFrom(
    "user@foo-.com",
    "user@-foo.com",
    "a..b@example.com",
    "a@b",
    "ünï@example.com",
    "user@exämple.com",
    '"quoted"@example.com',
    "user@[127.0.0.1]",
    "user@example.com.",
    `${"x".repeat(64)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.com`,
  ),
  fc.tuple(text(30), text(30)).map(([local, domain]) => `${local}@${domain}`),
);

describe("user-service: what the API accepts, its event contract accepts", () => {
  let sut: ServiceUnderTest;
  beforeAll(async () => {
    sut = await startServiceUnderTest(userService, "user", ["user.created"]);
  }, 60_000);
  afterAll(() => sut?.stop());

  const expectProblem = (res: request.Response) => {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  };

  it("When a body the API accepts creates a user, then its user.created event meets the contract; every other body is a 4xx naming the field", async () => {
    const created: string[] = [];
    await fc.assert(
      fc.asyncProperty(email, fc.oneof(text(210), fc.constant("Ada\u0000")), async (address, name) => {
        const res = await api(sut.svc.server).post("/users").send({ email: address, name });
        if (res.status === 201) {
          created.push(res.body.id);
          return;
        }
        expectProblem(res);
        if (res.status === 400) {
          const fields = res.body.errors.map((e: { field: string }) => e.field);
          expect(fields.length).toBeGreaterThan(0);
          expect(fields.every((f: string) => f === "email" || f === "name")).toBe(true);
        }
      }),
      {
        numRuns: 300,
        examples: [
          ["user@foo-.com", "Ada"],
          ["ada@example.com", "A\u0000da"],
        ],
      },
    );
    expect(created.length).toBeGreaterThan(0);
    const messages = await sut.events.waitFor(sut.topic("user.created"), created.length);
    for (const message of messages) expect(() => decodeEvent("user.created", message.value)).not.toThrow();
  }, 60_000);

  it("When the body is any JSON at all, then the answer is a 201 or a 4xx problem, never a 500", async () => {
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ email: fc.jsonValue(), name: fc.jsonValue() }, { requiredKeys: [] }),
      fc.dictionary(text(10), fc.jsonValue()),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const res = await api(sut.svc.server)
          .post("/users")
          .set("content-type", "application/json")
          .send(JSON.stringify(value));
        if (res.status !== 201) expectProblem(res);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
