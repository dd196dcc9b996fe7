import { describe, expect, it } from "vitest";
import { provisionTopics, type TopicAdmin } from "../src/provision";

/** An admin over an in-memory cluster: topic name -> partition count, recording every write. */
function fakeCluster(initial: Record<string, number>) {
  const topics = new Map(Object.entries(initial));
  const writes: string[] = [];
  const admin: TopicAdmin = {
    listTopics: async () => [...topics.keys()],
    fetchTopicMetadata: async ({ topics: names }) => ({
      topics: names.map((name) => ({ name, partitions: Array.from({ length: topics.get(name) ?? 0 }) })),
    }),
    createTopics: async ({ topics: created }) => {
      for (const t of created) {
        writes.push(`create ${t.topic} ${t.numPartitions}x${t.replicationFactor}`);
        topics.set(t.topic, t.numPartitions);
      }
      return true;
    },
    createPartitions: async ({ topicPartitions }) => {
      for (const t of topicPartitions) {
        writes.push(`grow ${t.topic} ${t.count}`);
        topics.set(t.topic, t.count);
      }
      return true;
    },
  };
  return { admin, topics, writes };
}

const catalog = [
  { name: "user.events", partitions: 6 },
  { name: "order.events", partitions: 6 },
];

describe("provisionTopics", () => {
  it("When the cluster has no topics, then every catalog topic is created with its partitions and the replication factor", async () => {
    const cluster = fakeCluster({});
    const report = await provisionTopics(cluster.admin, catalog, 3);
    expect(cluster.writes).toEqual(["create user.events 6x3", "create order.events 6x3"]);
    expect(report).toEqual({ created: ["user.events", "order.events"], grown: [], unchanged: [] });
  });

  it("When run a second time, then it changes nothing", async () => {
    const cluster = fakeCluster({});
    await provisionTopics(cluster.admin, catalog, 3);
    cluster.writes.length = 0;
    const report = await provisionTopics(cluster.admin, catalog, 3);
    expect(cluster.writes).toEqual([]);
    expect(report.unchanged).toEqual(["user.events", "order.events"]);
  });

  it("When a topic has fewer partitions than the catalog, then partitions are added; when it has more, it is left alone", async () => {
    const cluster = fakeCluster({ "user.events": 3, "order.events": 12 });
    const report = await provisionTopics(cluster.admin, catalog, 3);
    expect(cluster.writes).toEqual(["grow user.events 6"]);
    expect(report).toEqual({ created: [], grown: ["user.events"], unchanged: ["order.events"] });
  });

  it("When the cluster holds topics the catalog no longer lists, then they are kept", async () => {
    const cluster = fakeCluster({ "legacy.events": 6 });
    await provisionTopics(cluster.admin, catalog, 3);
    expect(cluster.topics.get("legacy.events")).toBe(6);
  });

  it.each([
    [[{ name: "a b", partitions: 1 }], 3, 'topic name "a b" is not a valid Kafka name'],
    [[{ name: "a", partitions: 0 }], 3, 'topic "a": partitions must be a positive integer, got 0'],
    [
      [
        { name: "a", partitions: 1 },
        { name: "a", partitions: 1 },
      ],
      3,
      'topic "a" is listed twice',
    ],
    [[{ name: "a", partitions: 1 }], 0, "replicationFactor must be a positive integer, got 0"],
  ])(
    "When given %j with replication %i, then it fails before touching the cluster: %s",
    async (topics, rf, message) => {
      const cluster = fakeCluster({});
      await expect(provisionTopics(cluster.admin, topics, rf)).rejects.toThrow(message);
      expect(cluster.writes).toEqual([]);
    },
  );
});
