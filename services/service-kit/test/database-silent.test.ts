import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { PGHOST, PGPORT, serviceEnv } from "../../system-tests/support/environment";
import { createPool, Database, isTransientError, loadConfig, ServiceMetrics, serviceEntry } from "../src";
import { serviceConfigSchema } from "../src/service";

/**
 * A proxy in front of PostgreSQL that can go silent: connections stay open but nothing passes,
 * as when the server's host vanishes (a failover) and no reset ever arrives.
 */
class SilentProxy {
  private silent = false;
  private readonly server = net.createServer((client) => {
    client.on("error", () => undefined);
    // Accepted, never answered: the vanished host's address swallows new connections too.
    if (this.silent) return void this.pairs.push([client, client]);
    const upstream = net.connect(PGPORT, PGHOST);
    for (const socket of [client, upstream]) socket.on("error", () => undefined);
    this.pairs.push([client, upstream]);
    client.pipe(upstream).pipe(client);
  });
  private readonly pairs: Array<[net.Socket, net.Socket]> = [];
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Open connections stop carrying anything, in either direction, and new ones get no answer. */
  silence(): void {
    this.silent = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) for (const socket of pair) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("a database connection that goes silent", () => {
  const proxy = new SilentProxy();
  let db: Database;

  beforeAll(async () => {
    await proxy.start();
    const config = loadConfig(serviceConfigSchema(serviceEntry("user-service")), {
      ...serviceEnv("user", "postgres", ""),
      PGPORT: String(proxy.port),
    });
    db = new Database(createPool(config, { queryTimeoutMs: 1_000 }), new ServiceMetrics("user-service"));
  });

  afterAll(async () => {
    await proxy.stop();
    await db.end().catch(() => undefined);
  });

  it("When the server stops answering mid-session, then queries and transactions fail within the query timeout as a transient error", async () => {
    await db.ping();
    await db.transaction((tx) => tx.query("SELECT 1"));
    proxy.silence();

    const started = Date.now();
    const queried = await db.query("SELECT 1").then(
      () => undefined,
      (error: unknown) => error,
    );
    const transacted = await db
      .transaction((tx) => tx.query("SELECT 1"))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(isTransientError(queried)).toBe(true);
    expect(isTransientError(transacted)).toBe(true);
  }, 15_000);
});
