/** A topic as the catalog declares it. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

/** The slice of a Kafka admin client provisioning needs (kafkajs's `Admin` fits it). */
export interface TopicAdmin {
  listTopics(): Promise<string[]>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<{
    topics: Array<{ name: string; partitions: ReadonlyArray<unknown> }>;
  }>;
  createTopics(options: {
    waitForLeaders: boolean;
    topics: Array<{ topic: string; numPartitions: number; replicationFactor: number }>;
  }): Promise<boolean>;
  createPartitions(options: { topicPartitions: Array<{ topic: string; count: number }> }): Promise<boolean>;
}

/** What one run did; nothing is ever deleted or shrunk. */
export interface ProvisionReport {
  readonly created: readonly string[];
  /** Topics whose partition count was raised to the catalog's. */
  readonly grown: readonly string[];
  /** Topics already as declared, or with more partitions than declared (Kafka cannot shrink them). */
  readonly unchanged: readonly string[];
}

/**
 * Makes the cluster hold every topic of `topics` with at least its declared partitions: creates the
 * missing ones, adds partitions where there are fewer, leaves the rest. Idempotent; never deletes
 * a topic, so a catalog entry removed by mistake cannot lose data.
 */
export async function provisionTopics(
  admin: TopicAdmin,
  topics: readonly TopicSpec[],
  replicationFactor: number,
): Promise<ProvisionReport> {
  validate(topics, replicationFactor);
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  const present = topics.filter((t) => existing.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor })),
    });
  }
  const grown: string[] = [];
  const unchanged: string[] = [];
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const counts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    const toGrow = present.filter((t) => (counts.get(t.name) ?? 0) < t.partitions);
    if (toGrow.length > 0) {
      await admin.createPartitions({
        topicPartitions: toGrow.map((t) => ({ topic: t.name, count: t.partitions })),
      });
    }
    for (const t of present) (toGrow.includes(t) ? grown : unchanged).push(t.name);
  }
  return { created: missing.map((t) => t.name), grown, unchanged };
}

function validate(topics: readonly TopicSpec[], replicationFactor: number): void {
  const problems: string[] = [];
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    problems.push(`replicationFactor must be a positive integer, got ${replicationFactor}`);
  }
  const seen = new Set<string>();
  for (const t of topics) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(t.name))
      problems.push(`topic name "${t.name}" is not a valid Kafka name`);
    if (!Number.isInteger(t.partitions) || t.partitions < 1) {
      problems.push(`topic "${t.name}": partitions must be a positive integer, got ${t.partitions}`);
    }
    if (seen.has(t.name)) problems.push(`topic "${t.name}" is listed twice`);
    seen.add(t.name);
  }
  if (problems.length > 0) throw new Error(`cannot provision topics: ${problems.join("; ")}`);
}
