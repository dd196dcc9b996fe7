import { randomUUID } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { api } from "../../system-tests/support/auth";
import {
  createTestDatabase,
  eventually,
  PGHOST,
  PGPORT,
  serviceEnv,
} from "../../system-tests/support/environment";
import { TcpProxy } from "../../system-tests/support/tcp-proxy";
import { userService } from "../../user-service/src/service";
import { type RunningService, startService } from "../src";

const PROBLEM = /^application\/problem\+json/;

const serviceErrors = async (svc: RunningService) =>
  /service_errors_total\{service="user-service"\} (\d+)/.exec(await svc.context.metrics.render())?.[1];

/** Sends `requests` on one raw connection, `pauseMs` apart; returns the status line of each answer. */
function onOneConnection(port: number, requests: number, pauseMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const statuses: string[] = [];
    const send = () => socket.write("GET /health HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n");
    socket.on("data", (chunk) => {
      statuses.push(chunk.toString().split("\r\n")[0] ?? "");
      if (statuses.length === requests) {
        socket.destroy();
        resolve(statuses);
      } else setTimeout(send, pauseMs);
    });
    socket.on("close", () => resolve(statuses));
    socket.on("error", reject);
    socket.on("connect", send);
  });
}

describe("HTTP hygiene of a kit service (user-service, real PostgreSQL behind a TCP proxy)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  const proxy = new TcpProxy(PGHOST, PGPORT);

  beforeAll(async () => {
    db = await createTestDatabase();
    await proxy.start();
    svc = await startService(userService, {
      env: serviceEnv("user", db.name, "", { PGPORT: String(proxy.port) }),
    });
  }, 60_000);

  afterAll(async () => {
    await svc?.stop();
    await proxy.stop();
    await db?.drop();
  }, 30_000);

  it("When a path holds malformed percent-encoding, then the answer is 400 malformed_path, not a service error", async () => {
    const before = await serviceErrors(svc);
    const res = await api(svc.server).get("/users/%E0%A4%A");
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ status: 400, code: "malformed_path" });
    expect(await serviceErrors(svc)).toBe(before);
  });

  it("When a body is not what it claims or holds a value PostgreSQL cannot store, then the answer is 4xx, not a service error", async () => {
    const before = await serviceErrors(svc);
    const notGzip = await api(svc.server)
      .post("/users")
      .set("content-type", "application/json")
      .set("content-encoding", "gzip")
      .send('{"email":"gzip@example.com","name":"x"}');
    expect(notGzip.status).toBe(400);
    expect(notGzip.headers["content-type"]).toMatch(PROBLEM);
    const nul = await api(svc.server)
      .post("/users")
      .send({ email: `nul-${randomUUID()}@example.com`, name: "a\u0000b" });
    expect(nul.status).toBe(400);
    expect(nul.body).toMatchObject({ status: 400, code: "invalid_request" });
    expect(await serviceErrors(svc)).toBe(before);
  });

  it("When a path is asked with a method it does not declare, then the answer is 405 with Allow", async () => {
    const one = await api(svc.server).delete(`/users/${randomUUID()}`);
    expect(one.status).toBe(405);
    expect(one.headers.allow).toBe("GET, HEAD");
    expect(one.headers["content-type"]).toMatch(PROBLEM);
    expect(one.body).toMatchObject({ status: 405, code: "method_not_allowed" });

    const collection = await api(svc.server).put("/users").send({});
    expect(collection.status).toBe(405);
    expect(collection.headers.allow?.split(", ").sort()).toEqual(["GET", "HEAD", "POST"]);

    const platform = await api(svc.server).post("/ready");
    expect(platform.status).toBe(405);
    expect(platform.headers.allow).toBe("GET, HEAD");

    expect((await api(svc.server).delete("/nowhere")).status).toBe(404);
  });

  it("When a keep-alive connection idles longer than Node's default 5 s, then the service still answers on it (the load balancer's 60 s idle timeout decides)", async () => {
    const statuses = await onOneConnection(svc.port, 2, 6_000);
    expect(statuses).toEqual(["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
  }, 15_000);

  it("When PostgreSQL is unreachable, then /ready answers 503 to the probes without counting a service error", async () => {
    const before = Number(await serviceErrors(svc));
    await proxy.cut();
    try {
      for (let i = 0; i < 3; i++) expect((await api(svc.server).get("/ready")).status).toBe(503);
    } finally {
      await proxy.restore();
    }
    expect(Number(await serviceErrors(svc))).toBe(before);
  }, 30_000);

  it("When PostgreSQL is unreachable, then requests get 503 with Retry-After, and succeed again once it is back", async () => {
    await proxy.cut();
    try {
      const created = await api(svc.server)
        .post("/users")
        .send({ email: `outage-${randomUUID()}@example.com`, name: "Outage" });
      expect(created.status).toBe(503);
      expect(created.headers["retry-after"]).toBe("2");
      expect(created.headers["content-type"]).toMatch(PROBLEM);
      expect(created.body).toMatchObject({ status: 503, code: "unavailable" });
      const read = await api(svc.server).get(`/users/${randomUUID()}`);
      expect(read.status).toBe(503);
      expect((await api(svc.server).get("/ready")).status).toBe(503);
    } finally {
      await proxy.restore();
    }
    await eventually("writes succeed again", async () => {
      const res = await api(svc.server)
        .post("/users")
        .send({ email: `back-${randomUUID()}@example.com`, name: "Back" });
      return res.status === 201 ? true : undefined;
    });
  }, 30_000);
});
