import { parseArgs } from "node:util";
import {
  baseConfigSchema,
  ConfigError,
  createLogger,
  createPool,
  Database,
  type KafkaAuthentication,
  loadConfig,
  Messaging,
  redriveDeadLetters,
  ServiceMetrics,
  UnknownDeadLetterTopic,
} from "@blueprint/service-kit";
import { z } from "zod";
import { NotificationRepository } from "../data-access/notification-repository";
import { configSchema } from "../service";

export const USAGE = `usage:
  redrive notifications --status failed [--since <ISO 8601 time, e.g. 2026-12-04T09:00:00Z>]
      moves failed notifications (those failed at or after --since) back to pending, with a fresh
      delivery clock, and prints how many
  redrive dlt --topic <topic>.dlt [--dry-run] [--skip-invalid]
      republishes the dead letters not redriven yet to their original topic, key and headers kept;
      --dry-run prints what it would do, --skip-invalid moves past events that break their contract`;

const REDRIVE_QUERY_TIMEOUT_MS = 600_000;

/** Wrong command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/**
 * The on-call redrive command. Returns the exit code: 0 done, 1 failed (the message says where it
 * stopped), 2 bad command line or configuration.
 */
export async function runRedrive(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === "notifications") await redriveNotifications(args, env, output);
    else if (command === "dlt") await redriveDlt(args, env, output);
    else throw new UsageError(command ? `unknown subcommand "${command}"` : "missing subcommand");
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.err(`redrive: ${message}`);
    if (
      error instanceof UsageError ||
      error instanceof UnknownDeadLetterTopic ||
      error instanceof ConfigError
    ) {
      output.err(USAGE);
      return 2;
    }
    return 1;
  }
}

/** Runs a parseArgs call with its errors (unknown option, missing value) as usage errors. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

const since = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

async function redriveNotifications(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({ args: [...args], options: { status: { type: "string" }, since: { type: "string" } } }),
  );
  if (values.status !== "failed")
    throw new UsageError(
      values.status === undefined
        ? "--status is required (only failed notifications are redriven)"
        : `--status: only failed notifications are redriven (got "${values.status}")`,
    );
  const from = values.since === undefined ? undefined : since.safeParse(values.since);
  if (from && !from.success)
    throw new UsageError(
      `--since: expected an ISO 8601 time such as 2026-12-04T09:00:00Z (got "${values.since}")`,
    );
  const config = loadConfig(configSchema, env);
  // One statement may move millions of rows after a long outage: longer than a request's timeout.
  const db = new Database(
    createPool(config, { queryTimeoutMs: REDRIVE_QUERY_TIMEOUT_MS }),
    new ServiceMetrics(config.SERVICE_NAME),
  );
  try {
    const moved = await new NotificationRepository(db).redriveFailed(from?.data);
    const window = values.since ? ` failed at or after ${values.since}` : "";
    output.out(`moved ${moved} failed notifications${window} back to pending`);
  } finally {
    await db.end();
  }
}

/** Only the Kafka settings: redriving dead letters needs no database password. */
const kafkaConfigSchema = baseConfigSchema
  .pick({ KAFKA_BROKERS: true, KAFKA_NAMESPACE: true, KAFKA_AUTH: true, AWS_REGION: true })
  .extend({ LOG_LEVEL: baseConfigSchema.shape.LOG_LEVEL.unwrap().default("warn") });

// kafkaAuthentication wants a whole service config; this is its rule for the Kafka settings alone.
function authentication(config: z.output<typeof kafkaConfigSchema>): KafkaAuthentication {
  if (config.KAFKA_AUTH === "none") return { kind: "none" };
  if (!config.AWS_REGION)
    throw new ConfigError(["AWS_REGION: required when KAFKA_AUTH is aws-msk-iam (got missing)"]);
  return { kind: "aws-msk-iam", region: config.AWS_REGION };
}

async function redriveDlt(args: readonly string[], env: NodeJS.ProcessEnv, output: Output): Promise<void> {
  const { values } = parsed(() =>
    parseArgs({
      args: [...args],
      options: {
        topic: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        "skip-invalid": { type: "boolean", default: false },
      },
    }),
  );
  if (values.topic === undefined)
    throw new UsageError("--topic is required, such as --topic user.created.dlt");
  const config = loadConfig(kafkaConfigSchema, env);
  const messaging = new Messaging({
    brokers: config.KAFKA_BROKERS,
    clientId: "redrive",
    logger: createLogger("redrive", config.LOG_LEVEL),
    authentication: authentication(config),
  });
  const admin = messaging.admin();
  try {
    await redriveDeadLetters({
      messaging,
      admin,
      namespace: config.KAFKA_NAMESPACE,
      topic: values.topic,
      dryRun: values["dry-run"],
      skipInvalid: values["skip-invalid"],
      print: output.out,
    });
  } finally {
    await admin.disconnect();
  }
}
