/**
 * The platform's messaging adapter. Everything else talks to these interfaces; kafkajs (unmaintained
 * upstream) is imported here only, so another client can replace it in this one file.
 */
import { generateAuthToken } from "aws-msk-iam-sasl-signer-js";
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Logger } from "pino";

export interface OutgoingMessage {
  /** Aggregate id: messages with one key land on one partition and keep their order. */
  readonly key: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TopicBatch {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface MessageProducer {
  connect(): Promise<void>;
  /** Resolves once every message is acknowledged by all in-sync replicas. */
  send(batches: readonly TopicBatch[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface MessageHandlerControl {
  /** Keeps the group membership alive while a handler waits (retries, paused on an outage). */
  heartbeat(): Promise<void>;
  /** Marks every message up to and including `offset` of this batch as done (committed soon after). */
  resolve(offset: string): void;
}

export interface MessageConsumer {
  /**
   * Joins the group and hands over messages until `stop`, one partition's batch at a time, in
   * order. Only offsets the handler resolved are committed; the rest is delivered again.
   */
  start(
    topics: readonly string[],
    handler: (messages: readonly IncomingMessage[], control: MessageHandlerControl) => Promise<void>,
  ): Promise<void>;
  /** Waits for in-flight handlers, commits their offsets and leaves the group. */
  stop(): Promise<void>;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

export interface MessagingAdmin {
  /** High watermark minus committed offset per partition of `topics` for `groupId`. */
  lag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]>;
  createTopics(topics: ReadonlyArray<{ name: string; partitions: number }>): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * How clients authenticate to the brokers: `none` (plaintext, local and compose) or `aws-msk-iam`
 * (TLS with SASL OAUTHBEARER tokens signed by the task's or pod's IAM role, as MSK requires).
 */
export type KafkaAuthentication =
  | { readonly kind: "none" }
  | { readonly kind: "aws-msk-iam"; readonly region: string };

/**
 * Told whenever a client's exchange with the brokers succeeds (`true`) or fails (`false`): the
 * `kafka_connected` gauge. `client` names the client's role, e.g. `outbox-relay` or `consumer`.
 */
export type ConnectivityListener = (client: string, connected: boolean) => void;

export interface MessagingOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** @default 3000 */
  readonly connectionTimeoutMs?: number;
  /** @default { kind: "none" } */
  readonly authentication?: KafkaAuthentication;
  readonly onConnectivity?: ConnectivityListener;
}

/** The kafkajs connection settings for an authentication mode. */
export function connectionSettings(authentication: KafkaAuthentication): Pick<KafkaConfig, "ssl" | "sasl"> {
  if (authentication.kind === "none") return {};
  const { region } = authentication;
  return {
    ssl: true,
    sasl: {
      mechanism: "oauthbearer",
      // Tokens last 15 minutes; kafkajs asks for a new one whenever it (re)authenticates.
      oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }),
    },
  };
}

export interface ConsumerOptions {
  readonly groupId: string;
  /** Partitions processed in parallel (each still in order). @default 1 */
  readonly concurrency?: number;
  /** Where a group without committed offsets starts. @default true (nothing published is skipped) */
  readonly fromBeginning?: boolean;
  /**
   * Called when the client has stopped consuming for good (a crash it does not restart from by
   * itself, such as a group member with an incompatible assignment protocol); otherwise that
   * stop is silent.
   */
  readonly onCrash?: (error: Error) => void;
}

function toText(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return out;
}

function kafkaLogger(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafka: extra };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}

/** Reports whether `work` reached the brokers, and passes its outcome on. */
async function reporting<T>(report: (connected: boolean) => void, work: Promise<T>): Promise<T> {
  try {
    const result = await work;
    report(true);
    return result;
  } catch (error) {
    report(false);
    throw error;
  }
}

class KafkaProducer implements MessageProducer {
  constructor(
    private readonly producer: Producer,
    private readonly report: (connected: boolean) => void,
  ) {
    report(false);
  }

  connect(): Promise<void> {
    return reporting(this.report, this.producer.connect());
  }

  async send(batches: readonly TopicBatch[]): Promise<void> {
    await reporting(
      this.report,
      this.producer.sendBatch({
        acks: -1,
        topicMessages: batches.map((b) => ({
          topic: b.topic,
          messages: b.messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
        })),
      }),
    );
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.report(false);
  }
}

class KafkaConsumer implements MessageConsumer {
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly report: (connected: boolean) => void,
  ) {
    report(false);
  }

  async start(
    topics: readonly string[],
    handler: (messages: readonly IncomingMessage[], control: MessageHandlerControl) => Promise<void>,
  ): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      // A consumer that crashed while the brokers were away leaves its old member behind; a restarted
      // broker holds the next rebalance until that member's session expires. 6 s (the brokers'
      // default minimum) lets consumption resume within seconds of their return.
      sessionTimeout: 6_000,
      heartbeatInterval: 2_000,
      // Short fetch waits keep a stop (which waits for the fetch in flight) under a second.
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    // In the group means connected; a crash (kafkajs restarts the consumer after retriable ones)
    // or a disconnect means not, until it joins again.
    consumer.on(consumer.events.GROUP_JOIN, () => this.report(true));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.report(false);
      if (!payload.restart) this.options.onCrash?.(payload.error);
    });
    consumer.on(consumer.events.DISCONNECT, () => this.report(false));
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: true,
      partitionsConsumedConcurrently: this.options.concurrency ?? 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        const messages = batch.messages.map((message) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: toText(message.headers),
        }));
        await handler(messages, { heartbeat, resolve: resolveOffset });
        await commitOffsetsIfNecessary();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}

class KafkaAdmin implements MessagingAdmin {
  private connected: Promise<void> | undefined;

  constructor(private readonly admin: Admin) {}

  private async ready(): Promise<Admin> {
    this.connected ??= this.admin.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    await this.connected;
    return this.admin;
  }

  async lag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
    const admin = await this.ready();
    const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const result: PartitionLag[] = [];
    for (const topic of committed) {
      const ends = await admin.fetchTopicOffsets(topic.topic);
      for (const end of ends) {
        const offset = Number(topic.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        const start = offset >= 0 ? offset : Number(end.low);
        result.push({
          topic: topic.topic,
          partition: end.partition,
          lag: Math.max(0, Number(end.high) - start),
        });
      }
    }
    return result;
  }

  async createTopics(topics: ReadonlyArray<{ name: string; partitions: number }>): Promise<void> {
    const admin = await this.ready();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
    });
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await (await this.ready()).deleteTopics({ topics: [...topics] });
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
    this.connected = undefined;
  }
}

/** Factory for producers, consumers and the admin client of one service. */
export class Messaging {
  private readonly kafka: Kafka;
  private readonly onConnectivity: ConnectivityListener;

  constructor(options: MessagingOptions) {
    this.onConnectivity = options.onConnectivity ?? (() => undefined);
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: 10_000,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogger(options.logger.child({ component: "kafka" })),
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
      ...connectionSettings(options.authentication ?? { kind: "none" }),
    });
  }

  /**
   * An idempotent producer (broker-side de-duplication of retried sends) with acks from all in-sync
   * replicas. Retries are bounded so a broker outage surfaces to the caller (the outbox relay, which
   * keeps rows unsent and tries again) instead of hanging. `client` labels its connectivity.
   */
  producer(client = "producer"): MessageProducer {
    return new KafkaProducer(
      this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
      }),
      (connected) => this.onConnectivity(client, connected),
    );
  }

  consumer(options: ConsumerOptions): MessageConsumer {
    return new KafkaConsumer(this.kafka, options, (connected) => this.onConnectivity("consumer", connected));
  }

  admin(): MessagingAdmin {
    return new KafkaAdmin(this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } }));
  }
}
