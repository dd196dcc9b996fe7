import nodemailer from "nodemailer";
import addressparser from "nodemailer/lib/addressparser";
import { type Mailer, MailRejected } from "../domain/delivery";

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user?: string;
  readonly password?: string;
  readonly from: string;
}

/** The domain of the From address, the right-hand side of the Message-IDs this sender makes. */
export function senderDomain(from: string): string | undefined {
  const [parsed] = addressparser(from, { flatten: true });
  const domain = parsed?.address.split("@")[1];
  return domain || undefined;
}

/**
 * True when the server refused this message for good. Nodemailer marks 5xx replies (except 503)
 * `permanent`; an authentication refusal is ours to fix, not the message's, so it is retried.
 */
function isPermanentRefusal(error: unknown): boolean {
  const { permanent, code } = error as { permanent?: unknown; code?: unknown };
  return permanent === true && code !== "EAUTH";
}

const MAX_CONNECTIONS = 4;

/** Mailer over a pooled nodemailer SMTP transport. */
export function smtpMailer(settings: SmtpSettings): Mailer {
  const domain = senderDomain(settings.from);
  if (!domain) throw new Error(`MAIL_FROM has no address with a domain: "${settings.from}"`);
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    auth: settings.user ? { user: settings.user, pass: settings.password ?? "" } : undefined,
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    connectionTimeout: 3_000,
    greetingTimeout: 3_000,
    socketTimeout: 10_000,
  });
  return {
    concurrency: MAX_CONNECTIONS,
    async send({ notificationId, ...message }) {
      try {
        await transport.sendMail({
          from: settings.from,
          messageId: `<${notificationId}@${domain}>`,
          ...message,
        });
      } catch (error) {
        if (isPermanentRefusal(error)) throw new MailRejected((error as Error).message);
        throw error;
      }
    },
    close() {
      transport.close();
    },
  };
}
