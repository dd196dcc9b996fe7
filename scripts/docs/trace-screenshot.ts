import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { devToken } from "@blueprint/service-kit/dev-tokens";
import { eventually } from "../../services/system-tests/support/environment";
import { findSpan, tracesTagged, waitForTrace } from "../../services/system-tests/support/zipkin";
import { which } from "../deps/prerequisites";
import { loadSettings } from "../deps/settings";
import { stackPorts } from "../stack/stack";

/*
 * `npm run docs:trace-screenshot`: signs a user up on the running stack (`npm run stack:up`), finds
 * its trace in Zipkin by the request id, waits until it holds the welcome email's SMTP send, and photographs the trace page of Zipkin's UI with headless Chromium into
 * docs/images/trace.png.
 */
const settings = loadSettings();
const ports = stackPorts();
const output = path.join(settings.repoRoot, "docs", "images", "trace.png");
const BROWSERS = ["chromium", "chromium-browser", "google-chrome"];

function browser(): string {
  const found = BROWSERS.map((b) => which(b)).find((b) => b !== undefined);
  if (found) return found;
  throw new Error(
    `no headless browser found (looked for ${BROWSERS.join(", ")} on PATH); on Debian or Ubuntu: sudo apt-get update && sudo apt-get install -y chromium`,
  );
}

async function signUp(): Promise<string> {
  const url = `http://${settings.host}:${ports.services["user-service"]}`;
  const ready = await fetch(`${url}/ready`).catch(() => undefined);
  if (ready?.status !== 200)
    throw new Error(`${url}/ready is not 200; start the stack with npm run stack:up`);
  const res = await fetch(`${url}/users`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${devToken({ sub: "docs-screenshot", scopes: ["users:write"] }, settings.localDir)}`,
    },
    body: JSON.stringify({ email: `trace-${Date.now()}@example.com`, name: "Ada Lovelace" }),
  });
  if (res.status !== 201) throw new Error(`POST /users answered ${res.status}: ${await res.text()}`);
  return res.headers.get("x-request-id") ?? "";
}

async function main(): Promise<void> {
  const chromium = browser();
  const requestId = await signUp();
  // Found as an SRE would: by the request id the client was given (a request's own traceparent
  // is ignored, OTEL_TRACE_INBOUND_CONTEXT).
  const traceId = await eventually(
    `the trace of request ${requestId} in Zipkin`,
    async () => (await tracesTagged("http.response.header.x-request-id", requestId))[0],
    30_000,
    250,
  );
  await waitForTrace(
    traceId,
    (spans) => findSpan(spans, "notification-service", "CLIENT", "smtp send") !== undefined,
  );
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const page = `${settings.zipkinUrl}/zipkin/traces/${traceId}`;
  const shot = spawnSync(
    chromium,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      "--window-size=1400,820",
      // The UI renders from the trace API after load; virtual time lets it finish first.
      "--virtual-time-budget=15000",
      `--screenshot=${output}`,
      page,
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  if (shot.status !== 0 || !fs.existsSync(output))
    throw new Error(`${chromium} failed (exit ${shot.status}):\n${shot.stderr}`);
  console.log(
    `request ${requestId}, trace ${traceId}\n${page}\nwrote ${path.relative(settings.repoRoot, output)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
