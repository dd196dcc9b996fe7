import { describe, expect, it } from "@jest/globals";
import { createEmptyDatabase } from "../support/environment";

describe("test databases", () => {
  it("When suites create databases at once, then each is provisioned although the service roles are shared by the whole cluster", async () => {
    // Provisioning sets each role's search_path, a cluster-wide row that concurrent sessions update.
    const created = await Promise.allSettled(Array.from({ length: 8 }, () => createEmptyDatabase()));
    await Promise.all(created.map((c) => (c.status === "fulfilled" ? c.value.drop() : undefined)));
    const failures = created.flatMap((c) => (c.status === "rejected" ? [String(c.reason)] : []));
    expect(failures).toEqual([]);
  }, 60_000);
});
