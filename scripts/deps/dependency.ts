/** One dependency the tooling can bring up, inspect and stop. */
export interface Dependency {
  readonly name: string;
  /** Where clients reach it, e.g. `127.0.0.1:5432`. */
  readonly address: string;
  /** False for one run by someone else (BLUEPRINT_DEPS=external): never installed, started or stopped. */
  readonly managed: boolean;
  /** Where a managed one keeps its pid files and the run lock (see run-lock.ts); none for external ones. */
  readonly runDir?: string;
  /** Our pid when our instance runs, otherwise undefined. */
  runningPid(): number | undefined;
  /**
   * Installs what is missing, starts it unless it runs, waits until ready, provisions it.
   * True when this call started it.
   */
  up(): Promise<boolean>;
  /** Stops our instance only; a no-op when it does not run. */
  down(): Promise<void>;
}
