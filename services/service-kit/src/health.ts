import type { Queryable } from "./database";

/** A named dependency probe used by /ready; resolves when reachable, rejects otherwise. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export function postgresCheck(db: Queryable): ReadinessCheck {
  return {
    name: "postgres",
    async check() {
      await db.query("SELECT 1");
    },
  };
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, "ok" | string>;
}

/** Runs every check in parallel, each bounded by `timeoutMs`, and reports which failed and why. */
export async function runChecks(
  checks: readonly ReadinessCheck[],
  timeoutMs = 2_000,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([c.check(), timeout]);
        return [c.name, "ok"] as const;
      } catch (error) {
        return [c.name, error instanceof Error ? error.message || error.name : String(error)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r === "ok"), checks: Object.fromEntries(results) };
}
