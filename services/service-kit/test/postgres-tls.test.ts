import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client } from "pg";
import { ENVIRONMENTS } from "../../../environments";
import { baseConfigSchema, loadConfig, postgresTls } from "../src";

/**
 * A server that answers PostgreSQL's SSLRequest with "S" and then completes a TLS handshake with
 * `cert`, as PostgreSQL does; it closes the connection right after, which is all the tests need.
 */
class TlsOnlyServer {
  readonly handshakes: string[] = [];
  private readonly server: net.Server;

  constructor(key: string, cert: string) {
    this.server = net.createServer((socket) => {
      socket.once("data", () => {
        socket.write("S");
        const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
        secure.on("secure", () => {
          this.handshakes.push("done");
          secure.destroy();
        });
        secure.on("error", () => socket.destroy());
      });
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const config = (env: Record<string, string>) =>
  loadConfig(baseConfigSchema, { SERVICE_NAME: "t", PORT: "0", PGUSER: "u", PGPASSWORD: "p", ...env });

describe("TLS to PostgreSQL", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-tls-"));
  const certFile = path.join(dir, "server.pem");
  let server: TlsOnlyServer;
  let port: number;

  beforeAll(async () => {
    // A self-signed certificate for localhost: what a server outside RDS, or an impostor, presents.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        path.join(dir, "server.key"),
        "-out",
        certFile,
      ],
      { stdio: "ignore" },
    );
    server = new TlsOnlyServer(
      fs.readFileSync(path.join(dir, "server.key"), "utf8"),
      fs.readFileSync(certFile, "utf8"),
    );
    port = await server.start();
  });

  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = (env: Record<string, string>) => {
    const settings = config({ PGHOST: "localhost", PGPORT: String(port), ...env });
    const client = new Client({
      host: "localhost",
      port,
      user: "u",
      password: "p",
      ssl: postgresTls(settings),
      connectionTimeoutMillis: 2_000,
    });
    client.on("error", () => undefined);
    return client.connect().then(
      () => client.end().then(() => "connected"),
      (error: Error) => error.message,
    );
  };

  it("When no PGSSLMODE is set, then it is verify-full", () => {
    expect(config({}).PGSSLMODE).toBe("verify-full");
  });

  it("When verify-full meets a certificate not from an RDS CA, then the connection fails before any credential is sent", async () => {
    const before = server.handshakes.length;
    expect(await connect({})).toMatch(/self-signed certificate|unable to verify/);
    expect(server.handshakes.length).toBe(before);
  });

  it("When verify-full trusts the server's CA (PGSSLROOTCERT) but the host name differs, then it fails too", async () => {
    const settings = config({ PGSSLROOTCERT: certFile });
    const client = new Client({
      host: "127.0.0.1",
      port,
      user: "u",
      password: "p",
      ssl: postgresTls(settings),
    });
    client.on("error", () => undefined);
    await expect(client.connect()).rejects.toThrow(/Hostname\/IP does not match|altnames/);
  });

  it("When verify-full trusts the server's CA and the name matches, then the handshake completes", async () => {
    const before = server.handshakes.length;
    await connect({ PGSSLROOTCERT: certFile });
    expect(server.handshakes.length).toBe(before + 1);
  });

  it("When verify-full uses the bundled RDS CAs, then they hold the root CA of every environment's region", () => {
    const tlsOptions = postgresTls(config({}));
    if (!tlsOptions) throw new Error("verify-full gave no TLS options");
    const names = (tlsOptions.ca as string[]).map((pem) => new X509Certificate(pem).subject);
    for (const env of ENVIRONMENTS) {
      expect(names).toContainEqual(expect.stringContaining(`CN=Amazon RDS ${env.region} Root CA RSA2048 G1`));
    }
  });
});
