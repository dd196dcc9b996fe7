import http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One email as the catcher received it. */
export interface ReceivedMail {
  readonly id: number;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly receivedAt: string;
}

export interface MailCatcherOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly smtpPort: number;
  /** HTTP view of received mail; omitted means none. 0 picks a free port. */
  readonly httpPort?: number;
}

function parseMessage(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? "" : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const text =
    headers["content-transfer-encoding"]?.toLowerCase() === "quoted-printable"
      ? body
          .replace(/=\r\n/g, "")
          .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
      : body;
  return { headers, text };
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A local SMTP server that accepts every message and keeps it in memory, with an HTTP view
 * (`/` lists, `/messages` is JSON). Used by `npm run stack:up` and by the tests as the real SMTP
 * peer of notification-service. It can be stopped and started again on the same port to play an
 * SMTP outage.
 */
export class MailCatcher {
  readonly messages: ReceivedMail[] = [];
  private smtp: SMTPServer | undefined;
  private web: http.Server | undefined;
  private nextId = 1;
  /** Client connections that broke off with an error, e.g. mid-message. */
  clientErrors = 0;
  smtpPort = 0;
  httpPort = 0;

  constructor(private readonly options: MailCatcherOptions) {}

  async start(): Promise<void> {
    const host = this.options.host ?? "127.0.0.1";
    this.smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      size: 1024 * 1024,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const { headers, text } = parseMessage(Buffer.concat(chunks).toString("utf8"));
          this.messages.push({
            id: this.nextId++,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: headers.subject ?? "",
            headers,
            text,
            receivedAt: new Date().toISOString(),
          });
          callback();
        });
      },
    });
    const smtp = this.smtp;
    await new Promise<void>((resolve, reject) => {
      smtp.once("error", reject);
      smtp.listen(this.smtpPort || this.options.smtpPort, host, () => {
        smtp.off("error", reject);
        resolve();
      });
    });
    // smtp-server re-emits a client's socket error (a sender killed or cut mid-message) on the
    // server; unheard, it would crash the catcher, and every later email would be refused.
    smtp.on("error", () => {
      this.clientErrors++;
    });
    this.smtpPort = (smtp.server.address() as AddressInfo).port;
    if (this.options.httpPort === undefined || this.web) return;
    this.web = http.createServer((req, res) => {
      if (req.url === "/messages") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.messages));
        return;
      }
      const rows = this.messages
        .slice()
        .reverse()
        .map(
          (m) =>
            `<tr><td>${m.receivedAt}</td><td>${escapeHtml(m.to.join(", "))}</td><td>${escapeHtml(m.subject)}</td><td><pre>${escapeHtml(m.text)}</pre></td></tr>`,
        )
        .join("");
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(
          `<!doctype html><title>Mail catcher</title><h1>${this.messages.length} messages</h1><table border="1" cellpadding="4"><tr><th>Received</th><th>To</th><th>Subject</th><th>Body</th></tr>${rows}</table>`,
        );
    });
    const web = this.web;
    await new Promise<void>((resolve, reject) => {
      web.once("error", reject);
      web.listen(this.options.httpPort, host, () => resolve());
    });
    this.httpPort = (web.address() as AddressInfo).port;
  }

  /** Stops accepting SMTP (an outage); the HTTP view and received messages stay. */
  async stopSmtp(): Promise<void> {
    const smtp = this.smtp;
    this.smtp = undefined;
    if (smtp) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.stopSmtp();
    const web = this.web;
    this.web = undefined;
    if (web) await new Promise<void>((resolve) => web.close(() => resolve()));
  }

  /** Messages addressed to `address`. */
  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.to.includes(address));
  }
}

async function main(): Promise<void> {
  const smtpPort = Number(process.env.SMTP_PORT ?? 1025);
  const httpPort = Number(process.env.MAIL_UI_PORT ?? 8025);
  const catcher = new MailCatcher({ smtpPort, httpPort });
  await catcher.start();
  console.log(`mail catcher: SMTP 127.0.0.1:${catcher.smtpPort}, web http://127.0.0.1:${catcher.httpPort}`);
  const stop = () => void catcher.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
