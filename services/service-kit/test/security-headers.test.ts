import { describe, expect, it } from "@jest/globals";
import express from "express";
import helmet from "helmet";
import request from "supertest";
import { securityHeaders } from "../src/security-headers";

function app(middleware: express.RequestHandler): express.Express {
  const server = express();
  server.use(middleware);
  server.get("/users", (_req, res) => {
    res.json({ items: [] });
  });
  return server;
}

const withoutDate = (headers: Record<string, unknown>) => {
  const { date: _date, ...rest } = headers;
  return rest;
};

describe("Security headers", () => {
  it("When a response is sent, then it carries exactly the headers helmet's default policy sets, X-Powered-By removed", async () => {
    const ours = await request(app(securityHeaders())).get("/users");
    const helmets = await request(app(helmet())).get("/users");
    expect(withoutDate(ours.headers)).toEqual(withoutDate(helmets.headers));
    expect(ours.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(ours.headers["x-powered-by"]).toBeUndefined();
  });
});
