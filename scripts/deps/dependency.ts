/** One local dependency the tooling can start, inspect and stop. */
export interface Dependency {
  readonly name: string;
  /** Where clients reach it, e.g. `127.0.0.1:5432`. */
  readonly address: string;
  /** Our pid when our instance runs, otherwise undefined. */
  runningPid(): number | undefined;
  /** Installs what is missing, starts it unless it runs, waits until ready. True when this call started it. */
  up(): Promise<boolean>;
  /** Stops our instance only; a no-op when it does not run. */
  down(): Promise<void>;
}
