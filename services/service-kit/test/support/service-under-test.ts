import {
  type BaseConfig,
  type RunningService,
  type ServiceDefinition,
  startService,
} from "@blueprint/service-kit";
import fc from "fast-check";
import type { z } from "zod";
import {
  createTestDatabase,
  createTestNamespace,
  type ServiceKey,
  serviceEnv,
} from "../../../system-tests/support/environment";
import { TopicRecorder } from "../../../system-tests/support/kafka";

/** A service started in-process on a database and Kafka namespace of its own, recording `topics`. */
export interface ServiceUnderTest {
  readonly svc: RunningService;
  readonly events: TopicRecorder;
  /** Physical name of a logical topic in this test's namespace. */
  topic(name: string): string;
  stop(): Promise<void>;
}

export async function startServiceUnderTest<S extends z.ZodType<BaseConfig>>(
  definition: ServiceDefinition<S>,
  key: ServiceKey,
  topics: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServiceUnderTest> {
  const [db, ns] = await Promise.all([createTestDatabase(), createTestNamespace()]);
  const svc = await startService(definition, { env: serviceEnv(key, db.name, ns.namespace, env) });
  const events = new TopicRecorder(topics.map((t) => `${ns.namespace}${t}`));
  await events.start();
  return {
    svc,
    events,
    topic: (name) => `${ns.namespace}${name}`,
    async stop() {
      await events.stop();
      await svc.stop();
      await Promise.all([db.drop(), ns.drop()]);
    },
  };
}

/** Any UTF-16 code unit, so strings hold NUL, unpaired surrogates and astral characters alike. */
export const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({ maxLength }),
  );
