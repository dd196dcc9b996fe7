import { once } from "node:events";
import net from "node:net";
import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { MailCatcher } from "./mail-catcher";

/** Speaks SMTP up to the middle of a message's body, then resets the connection. */
async function dropMidMessage(port: number): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  // A reply ends with a line of its code followed by a space (multi-line replies use a dash).
  const finalReply = async () => {
    while (!/^\d{3} .*\r\n/m.test(received)) await once(socket, "data");
    received = "";
  };
  await finalReply();
  for (const line of ["EHLO sender.test", "MAIL FROM:<a@sender.test>", "RCPT TO:<b@receiver.test>", "DATA"]) {
    socket.write(`${line}\r\n`);
    await finalReply();
  }
  // Written before the reset, so the catcher is inside the message when the connection breaks.
  await new Promise<void>((resolve) =>
    socket.write("Subject: half\r\n\r\nthe sender dies here", () => resolve()),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.resetAndDestroy();
  await once(socket, "close");
}

describe("mail catcher", () => {
  let catcher: MailCatcher | undefined;
  afterEach(async () => {
    await catcher?.stop();
  });

  it("When a sender is cut off in the middle of a message, then the catcher keeps running and receives the next email", async () => {
    catcher = new MailCatcher({ smtpPort: 0 });
    await catcher.start();
    await dropMidMessage(catcher.smtpPort);
    await expect.poll(() => catcher?.clientErrors, { timeout: 2_000 }).toBe(1);

    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: catcher.smtpPort,
      secure: false,
    });
    await transport.sendMail({
      from: "a@sender.test",
      to: "c@receiver.test",
      subject: "whole",
      text: "arrives",
    });
    transport.close();

    expect(catcher.to("c@receiver.test").map((m) => m.subject)).toEqual(["whole"]);
    expect(catcher.to("b@receiver.test")).toEqual([]);
  });
});
