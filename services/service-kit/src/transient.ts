import { isConnectionError, StaleStatement } from "./database";

/**
 * PostgreSQL SQLSTATEs that say "not now" rather than "never": the same statement succeeds once the
 * contention, the failover or the shortage is over. Connection failures (class 08, class 28 login
 * refused, 57P01 admin_shutdown, 57P02, 57P03 cannot_connect_now, 53300 too_many_connections,
 * ECONNREFUSED, ECONNRESET, a query unanswered past the pool's query timeout, ...) are recognised by
 * `isConnectionError` in database.ts.
 */
export const TRANSIENT_SQLSTATES: ReadonlyMap<string, string> = new Map([
  ["40001", "serialization_failure: a concurrent transaction changed what this one read"],
  ["40P01", "deadlock_detected: PostgreSQL aborted this transaction to break a lock cycle"],
  ["55P03", "lock_not_available: lock_timeout or NOWAIT gave up on a lock held by another session"],
  ["57014", "query_canceled: the statement ran past statement_timeout and was rolled back"],
  ["25006", "read_only_sql_transaction: the connection reached a read-only server, as during a failover"],
  // A full disk or memory (the shared lock table included) fails every event alike until someone
  // acts: waiting keeps them, where counting attempts would dead-letter the whole stream meanwhile.
  ["53100", "disk_full: the server has no space to write"],
  ["53200", "out_of_memory: the server, or its shared lock table, is out of memory"],
]);

/** The error and the errors it wraps (`cause`), outermost first. */
function* causes(error: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && current !== null && !seen.has(current); ) {
    seen.add(current);
    yield current;
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
}

function isTransientOne(error: unknown): boolean {
  // A stale named statement was refused before it ran, and its connection discarded: a retry prepares it anew.
  if (isConnectionError(error) || error instanceof StaleStatement) return true;
  if (typeof error !== "object" || error === null) return false;
  const { code, name, retriable } = error as { code?: unknown; name?: unknown; retriable?: unknown };
  if (typeof code === "string" && TRANSIENT_SQLSTATES.has(code)) return true;
  // kafkajs marks errors a retry can cure (broker unreachable, leader moving, request timed out).
  return typeof name === "string" && name.startsWith("KafkaJS") && retriable === true;
}

/**
 * True when `error` (or an error it wraps) means a dependency is briefly unavailable or contended,
 * so the same work should be retried, for as long as that lasts, instead of being failed: the
 * database is unreachable, restarting or read-only, the transaction lost a serialization or
 * deadlock race or a lock wait, or Kafka is unreachable. Anything else is permanent.
 */
export function isTransientError(error: unknown): boolean {
  for (const candidate of causes(error)) if (isTransientOne(candidate)) return true;
  return false;
}
