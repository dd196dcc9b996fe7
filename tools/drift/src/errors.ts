/** An error the user can fix (bad input, bad option); the CLI prints its message and exits 1. */
export class DriftToolError extends Error {
  override readonly name = "DriftToolError";
}

/** A command line the CLI cannot run; the usage text is printed with it. */
export class UsageError extends DriftToolError {}
