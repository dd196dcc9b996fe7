import { dev } from "./dev";
import { prod } from "./prod";
import { staging } from "./staging";
import type { EnvironmentConfig } from "./types";
import { validateEnvironments } from "./validate";

export type { ComputeKind, EnvironmentConfig, EnvironmentName, Profile, ServiceSizing } from "./types";
export { EnvironmentValidationError, validateEnvironments } from "./validate";

/** Every environment, in promotion order. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [dev, staging, prod];

/**
 * Validates all environments, then returns those named in `selection` (comma-separated,
 * e.g. "dev,prod"), or all when empty. An unknown name fails with the list of known ones.
 */
export function selectEnvironments(
  selection: string | undefined,
  environments: readonly unknown[] = ENVIRONMENTS,
): EnvironmentConfig[] {
  const valid = validateEnvironments(environments);
  if (selection === undefined || selection.trim() === "") return valid;
  return selection.split(",").map((raw) => {
    const name = raw.trim();
    const env = valid.find((e) => e.name === name);
    if (!env) throw new Error(`unknown environment "${name}"; known: ${valid.map((e) => e.name).join(", ")}`);
    return env;
  });
}
