import http from "node:http";

/** One request of an open-model run: when it was due (epoch ms), how long it took from then and its outcome. */
export interface Arrival<T> {
  readonly sentAt: number;
  readonly latencyMs: number;
  readonly status: number;
  readonly body: T | undefined;
}

export interface OpenLoadOptions {
  readonly url: string;
  /** Arrivals per second, evenly spaced. */
  readonly rate: number;
  readonly seconds: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body of the `i`th request. */
  body(i: number): string;
}

/**
 * Sends POSTs at a fixed arrival rate regardless of how fast responses come back (the open model:
 * users do not wait for each other, so a slow server faces a growing queue, as in production).
 * Arrivals are spread evenly; autocannon's `overallRate` instead releases each second's quota in a
 * burst, which measures the burst, and its closed loop caps the arrivals at the connection count.
 */
export async function openLoad<T>(
  options: OpenLoadOptions,
): Promise<{ arrivals: Arrival<T>[]; achievedRate: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(options.url);
  const total = Math.round(options.rate * options.seconds);
  const arrivals: Arrival<T>[] = [];
  const inFlight = new Set<Promise<void>>();
  const began = performance.now();
  const beganEpoch = Date.now();
  // Times count from when the request was due, not when it left: a starved generator sending late
  // would otherwise hide its own delay from the latency (coordinated omission).
  const send = (i: number) => {
    const due = (i * 1000) / options.rate;
    const sentAt = beganEpoch + due;
    const t0 = began + due;
    const payload = options.body(i);
    const done = new Promise<void>((resolve) => {
      const req = http.request(
        target,
        {
          method: "POST",
          agent,
          headers: { ...options.headers, "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => {
            let body: T | undefined;
            try {
              body = JSON.parse(text) as T;
            } catch {
              body = undefined;
            }
            arrivals.push({ sentAt, latencyMs: performance.now() - t0, status: res.statusCode ?? 0, body });
            resolve();
          });
        },
      );
      req.on("error", () => {
        arrivals.push({ sentAt, latencyMs: performance.now() - t0, status: 0, body: undefined });
        resolve();
      });
      req.end(payload);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * options.rate) + 1);
    for (; sent < due; sent++) send(sent);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const achievedRate = sent / ((performance.now() - began) / 1000);
  await Promise.all(inFlight);
  agent.destroy();
  return { arrivals, achievedRate };
}
