import { describe, expect, it } from "vitest";
import { bucketOf, summarize } from "./profile-summary";

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe("the CPU profile summary", () => {
  it("puts a frame in its npm package, its repository source file or V8's category", () => {
    expect(bucketOf(frame("send", "file:///r/node_modules/express/lib/response.js"))).toBe("express");
    expect(bucketOf(frame("x", "file:///r/node_modules/@pinojs/redact/index.js"))).toBe("@pinojs/redact");
    expect(bucketOf(frame("x", "file:///r/services/service-kit/src/routes.ts"))).toBe(
      "service-kit/src/routes.ts",
    );
    expect(bucketOf(frame("end", "node:_http_outgoing"))).toBe("node:_http_outgoing");
    expect(bucketOf(frame("writev", ""))).toBe("(native) writev");
    expect(bucketOf(frame("(garbage collector)", ""))).toBe("(garbage collector)");
  });

  it("sums self time per bucket, largest first, leaving idle time out of the total", () => {
    const summary = summarize({
      nodes: [
        { id: 1, callFrame: frame("(idle)", "") },
        { id: 2, callFrame: frame("a", "file:///r/node_modules/pg/lib/client.js") },
        { id: 3, callFrame: frame("b", "file:///r/node_modules/pino/pino.js") },
      ],
      samples: [1, 2, 3, 3, 1],
      timeDeltas: [5000, 1000, 2000, 1000, 5000],
    });
    expect(summary.total).toBe(4);
    expect(summary.buckets).toEqual([
      ["pino", 3],
      ["pg", 1],
    ]);
  });
});
