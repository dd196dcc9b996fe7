import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** An SMTP reply other than acceptance, such as 451 (try later) or 550 (refused). */
export interface SmtpReply {
  readonly code: number;
  readonly message: string;
}

/** One DATA command as the server saw it, accepted or not. */
export interface SmtpAttempt {
  readonly to: readonly string[];
  readonly messageId: string;
  readonly accepted: boolean;
}

/**
 * A real SMTP server whose answers to a message are scripted per recipient: the next messages for
 * an address get the queued replies in order, then are accepted. It records every attempt.
 */
export class ScriptedSmtp {
  readonly attempts: SmtpAttempt[] = [];
  private readonly script = new Map<string, SmtpReply[]>();
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const messageId =
          /^Message-ID:\s*(.+)$/im.exec(Buffer.concat(chunks).toString("utf8"))?.[1]?.trim() ?? "";
        const reply = to.map((address) => this.script.get(address)?.shift()).find((r) => r !== undefined);
        setTimeout(() => {
          this.attempts.push({ to, messageId, accepted: !reply });
          if (!reply) return callback();
          callback(Object.assign(new Error(reply.message), { responseCode: reply.code }));
        }, this.replyDelayMs);
      });
    },
  });
  port = 0;
  /** How long the server takes to answer each message, as a slow relay would. */
  replyDelayMs = 0;

  /** The next messages to `address` get `replies`, one each, in order. */
  reply(address: string, ...replies: SmtpReply[]): void {
    this.script.set(address, [...(this.script.get(address) ?? []), ...replies]);
  }

  /** Every attempt to deliver to `address`. */
  to(address: string): SmtpAttempt[] {
    return this.attempts.filter((a) => a.to.includes(address));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    // A sender cut off mid-message is what some tests play; its socket error must not crash them.
    this.server.on("error", () => undefined);
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
