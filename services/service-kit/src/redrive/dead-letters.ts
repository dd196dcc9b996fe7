import { randomUUID } from "node:crypto";
import { redriveGroup, topicEntries } from "../catalog";
import { decodeEvent, EVENT_SCHEMAS, type EventType } from "../events";
import type { IncomingMessage, Messaging, MessagingAdmin } from "../messaging";

const DLT_SUFFIX = ".dlt";
/** Headers the consumer adds when it dead-letters an event; the rest are the original's. */
const DLT_HEADER_PREFIX = "dlt-";
/** A redrive that receives nothing for this long stops and says how far it got. */
const IDLE_LIMIT_MS = 15_000;

export interface DeadLetterRedriveOptions {
  readonly messaging: Messaging;
  readonly admin: MessagingAdmin;
  /** KAFKA_NAMESPACE: prefix of every topic and group. */
  readonly namespace: string;
  /** Logical dead-letter topic, such as `user.created.dlt`. */
  readonly topic: string;
  /** Print what would be republished; publish and commit nothing. */
  readonly dryRun: boolean;
  /** Commit past events that break their contract (they stay readable in the topic) instead of stopping at the first. */
  readonly skipInvalid: boolean;
  readonly print: (line: string) => void;
}

export interface RedriveSummary {
  /** Events republished (or that would be, in a dry run). */
  readonly republished: number;
  /** Events skipped because they break their contract (or that would be). */
  readonly skipped: number;
}

/** Raised for a topic that is not a dead-letter topic of the catalog, naming those that are. */
export class UnknownDeadLetterTopic extends Error {
  constructor(topic: string) {
    const known = topicEntries()
      .filter((t) => t.name.endsWith(DLT_SUFFIX))
      .map((t) => t.name);
    super(`unknown dead-letter topic "${topic}" (known: ${known.join(", ")})`);
    this.name = "UnknownDeadLetterTopic";
  }
}

/** Raised when a dead letter breaks its event contract: republishing it would only dead-letter it again. */
export class InvalidDeadLetter extends Error {
  constructor(offset: string, reason: string) {
    super(
      `offset ${offset} breaks its contract, stopped before it (nothing after it was republished): ${reason}. ` +
        "Fix and republish it by hand, or rerun with --skip-invalid to move past such events.",
    );
    this.name = "InvalidDeadLetter";
  }
}

/** Ends a dry run where the real run would stop. */
class DryRunStop extends Error {}

function originalTopicOf(topic: string): EventType {
  const original = topic.slice(0, -DLT_SUFFIX.length);
  const known = topicEntries().some((t) => t.name === topic);
  if (!topic.endsWith(DLT_SUFFIX) || !known || !(original in EVENT_SCHEMAS))
    throw new UnknownDeadLetterTopic(topic);
  // Each topic carries one event type, named as the topic.
  return original as EventType;
}

function originalHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(DLT_HEADER_PREFIX)));
}

/** The contract violation of `message`, if any. */
function violation(type: EventType, message: IncomingMessage): string | undefined {
  try {
    decodeEvent(type, message.value);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function describeDeadLetter(message: IncomingMessage): string {
  const failed = message.headers["dlt-error"] ?? "unknown error";
  const group = message.headers["dlt-consumer-group"] ?? "unknown group";
  return `offset ${message.offset} key ${message.key ?? "(none)"} (${group}: ${failed})`;
}

/**
 * Republishes the dead letters of `topic` that were not redriven yet onto the original topic, with
 * the original key and headers (the `dlt-*` ones dropped), after checking each against its event
 * contract. Progress is the committed offset of the group `redrive.<topic>`, committed after each
 * republish: a rerun continues after the last event republished, and an interruption republishes at
 * most one event twice, which idempotent consumers ignore. Events that arrive while it runs are left
 * for the next run.
 */
export async function redriveDeadLetters(options: DeadLetterRedriveOptions): Promise<RedriveSummary> {
  const { admin, namespace, topic, print } = options;
  const type = originalTopicOf(topic);
  const physical = `${namespace}${topic}`;
  const group = `${namespace}${redriveGroup(topic)}`;
  const count = async (groupId: string) =>
    (await admin.lag(groupId, [physical])).reduce((sum, partition) => sum + partition.lag, 0);
  const pending = await count(group);
  if (pending === 0) {
    print(`nothing to redrive: every dead letter of ${topic} was redriven before`);
    return { republished: 0, skipped: 0 };
  }
  if (!options.dryRun) return republish(options, type, physical, group, pending);
  const dryGroup = `${namespace}redrive-dry-run.${topic}.${randomUUID()}`;
  return dryRun(options, type, physical, dryGroup, pending, (await count(dryGroup)) - pending);
}

async function republish(
  options: DeadLetterRedriveOptions,
  type: EventType,
  physical: string,
  group: string,
  pending: number,
): Promise<RedriveSummary> {
  const { messaging, namespace, print, skipInvalid } = options;
  const producer = messaging.producer();
  await producer.connect();
  let republished = 0;
  let skipped = 0;
  try {
    await consume(options, physical, group, pending, async (message) => {
      const reason = violation(type, message);
      if (reason && !skipInvalid) throw new InvalidDeadLetter(message.offset, reason);
      if (reason) {
        skipped += 1;
        print(`skipped ${describeDeadLetter(message)}: ${reason}`);
        return;
      }
      await producer.send([
        {
          topic: `${namespace}${type}`,
          messages: [
            { key: message.key ?? "", value: message.value ?? "", headers: originalHeaders(message.headers) },
          ],
        },
      ]);
      republished += 1;
      print(`republished ${describeDeadLetter(message)} to ${type}`);
    });
  } finally {
    await producer.disconnect();
  }
  print(`republished ${republished} dead letters of ${options.topic} to ${type}, skipped ${skipped}`);
  return { republished, skipped };
}

/**
 * Reads with a throwaway group of its own from the start (the redrive group's offset stays as it
 * is), passing over what the redrive group has done. Kafka drops the empty group after its offsets
 * retention (7 days by default).
 */
async function dryRun(
  options: DeadLetterRedriveOptions,
  type: EventType,
  physical: string,
  group: string,
  pending: number,
  alreadyRedriven: number,
): Promise<RedriveSummary> {
  const { topic, print, skipInvalid } = options;
  let seen = 0;
  let republished = 0;
  let skipped = 0;
  let stopAt: string | undefined;
  await consume(options, physical, group, alreadyRedriven + pending, async (message) => {
    seen += 1;
    if (seen <= alreadyRedriven) return;
    const reason = violation(type, message);
    if (reason && !skipInvalid) {
      stopAt = message.offset;
      print(`would stop at ${describeDeadLetter(message)}: ${reason}`);
      throw new DryRunStop();
    }
    if (reason) {
      skipped += 1;
      print(`would skip ${describeDeadLetter(message)}: ${reason}`);
      return;
    }
    republished += 1;
    print(`would republish ${describeDeadLetter(message)} to ${type}`);
  }).catch((error: unknown) => {
    if (!(error instanceof DryRunStop)) throw error;
  });
  const stop = stopAt === undefined ? "" : `, then stop at offset ${stopAt}`;
  print(
    `dry run: would republish ${republished} dead letters of ${topic} to ${type}, skip ${skipped}${stop}`,
  );
  return { republished, skipped };
}

/**
 * Hands `total` messages of `physical` to `handle`, one per fetch, so the group's offset is
 * committed after each one before the next is read. Stops at the first error `handle` throws,
 * leaving that message uncommitted.
 */
async function consume(
  options: DeadLetterRedriveOptions,
  physical: string,
  group: string,
  total: number,
  handle: (message: IncomingMessage) => Promise<void>,
): Promise<void> {
  const consumer = options.messaging.consumer({ groupId: group, concurrency: 1, fromBeginning: true });
  let handled = 0;
  let failure: unknown;
  let lastProgress = Date.now();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.start([physical], async (messages, control) => {
    const [message] = messages;
    if (!message || handled >= total || failure) return;
    try {
      await handle(message);
    } catch (error) {
      failure = error;
      finish();
      return;
    }
    control.resolve(message.offset);
    handled += 1;
    lastProgress = Date.now();
    if (handled >= total) finish();
  });
  const idle = setInterval(() => {
    if (Date.now() - lastProgress > IDLE_LIMIT_MS) {
      failure = new Error(
        `no dead letter received for ${IDLE_LIMIT_MS / 1000} s after ${handled} of ${total}; rerun to continue`,
      );
      finish();
    }
  }, 1_000);
  try {
    await finished;
  } finally {
    clearInterval(idle);
    await consumer.stop();
  }
  if (failure) throw failure;
}
