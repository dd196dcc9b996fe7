import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../environments";
import { synthAll } from "./synth-all";
import { addressesOf, STATEFUL_TYPES } from "./terraform-addresses";

// Addresses of the stateful resources as applied from earlier releases (stack -> addresses). A
// changed address makes Terraform destroy and recreate the resource: a database, a broker, a key.
const PINNED = path.join(__dirname, "stateful-addresses.json");

/** Stateful addresses of every stack, as pinned in stateful-addresses.json. */
function statefulAddresses(stacks: ReturnType<typeof synthAll>): Record<string, string[]> {
  return Object.fromEntries(
    [...stacks].map(([id, stack]) => [
      id,
      [...addressesOf(stack).keys()]
        .filter((a) => STATEFUL_TYPES.some((type) => a.startsWith(`${type}.`)))
        .sort(),
    ]),
  );
}

describe("Terraform addresses", () => {
  it("When every environment is synthesized, then data stores, keys, secrets, repositories, clusters and log groups keep the addresses users applied", () => {
    const pinned = JSON.parse(fs.readFileSync(PINNED, "utf8")) as Record<string, string[]>;
    expect(statefulAddresses(synthAll(ENVIRONMENTS))).toEqual(pinned);
  });
});
