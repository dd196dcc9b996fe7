import { type Admin, Kafka, logLevel } from "kafkajs";

/** Runs `work` with a connected admin client that fails fast instead of retrying. */
export async function withKafkaAdmin<T>(
  brokers: readonly string[],
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Kafka({
    clientId: "blueprint-deps",
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2_000,
  }).admin();
  try {
    await admin.connect();
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** True once the cluster answers metadata with a broker and an elected controller. */
export function clusterReady(brokers: readonly string[]): Promise<boolean> {
  return withKafkaAdmin(brokers, async (admin) => {
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  });
}
