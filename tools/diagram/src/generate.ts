import { serviceEntries, topicEntries } from "@blueprint/service-kit/catalog";
import { renderDot } from "./dot";
import { synthesizeStacks } from "./stacks";

/** Paths of the committed diagram, relative to the repository root. */
export const DOT_PATH = "docs/architecture.dot";
export const SVG_PATH = "docs/architecture.svg";

/** The DOT text of the architecture diagram, from a fresh in-memory synthesis and the catalog. */
export function generateDot(): string {
  return renderDot(synthesizeStacks(), { services: serviceEntries(), topics: topicEntries() });
}
