import type { RouteEntry, ServiceEntry } from "./catalog";

/** Where a service's routes are declared, for messages that tell people what to edit. */
const CATALOG_FILE = "services/service-kit/src/catalog.ts";

function key(route: RouteEntry): string {
  return `${route.method} ${route.path}`;
}

/**
 * The catalog is the one list of a service's routes (load balancer paths, dashboards, alerts read
 * it), so the routes a service serves must be exactly its catalog entry's, each once. Throws naming
 * every route found on one side only or defined twice (Express would serve the first definition
 * and the OpenAPI document describe the last).
 */
export function checkRoutesMatchCatalog(entry: ServiceEntry, routes: readonly RouteEntry[]): void {
  const declared = new Set(entry.routes.map(key));
  const keys = routes.map(key);
  const served = new Set(keys);
  const twice = new Set(keys.filter((k, i) => keys.indexOf(k) !== i));
  const problems = [
    ...[...twice].map((r) => `serves ${r} more than once`),
    ...[...served].filter((r) => !declared.has(r)).map((r) => `serves ${r}, which its catalog entry lacks`),
    ...[...declared]
      .filter((r) => !served.has(r))
      .map((r) => `its catalog entry lists ${r}, which it does not serve`),
  ];
  if (problems.length > 0) {
    throw new Error(
      `${entry.name}: routes differ from the catalog (${CATALOG_FILE}, services["${entry.name}"].routes):\n- ${problems.join("\n- ")}`,
    );
  }
}
