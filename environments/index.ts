import { dev } from "./dev";
import { prod } from "./prod";
import { staging } from "./staging";
import type { EnvironmentConfig } from "./types";

export type { EnvironmentConfig, EnvironmentName } from "./types";

/** Every environment, in promotion order. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = [dev, staging, prod];

/**
 * The environments named in `selection` (comma-separated, e.g. "dev,prod"), or all when empty.
 * An unknown name fails with the list of known ones.
 */
export function selectEnvironments(selection: string | undefined): EnvironmentConfig[] {
  if (selection === undefined || selection.trim() === "") return [...ENVIRONMENTS];
  const names = selection.split(",").map((n) => n.trim());
  return names.map((name) => {
    const env = ENVIRONMENTS.find((e) => e.name === name);
    if (!env) {
      throw new Error(`unknown environment "${name}"; known: ${ENVIRONMENTS.map((e) => e.name).join(", ")}`);
    }
    return env;
  });
}
