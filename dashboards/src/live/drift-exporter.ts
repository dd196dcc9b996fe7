import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../paths";
import { DRIFT_EXPORTER_PORT } from "../registry";

export interface DriftReportSource {
  /** `terraform show -json` output of a refresh-only plan. */
  readonly plan: string;
  readonly env: string;
  readonly stack: string;
}

/**
 * The drift metrics exactly as the delivery pipeline publishes them: the output of
 * `npm run drift -- --plan <file> --format prometheus --env <env> --stack <stack>`. The tool exits
 * 2 when it finds drift, which is a report, not a failure.
 */
export function renderDriftMetrics(source: DriftReportSource): Promise<string> {
  const args = [
    "--conditions=development",
    "--import",
    "tsx",
    path.join(REPO_ROOT, "tools/drift/src/cli.ts"),
    ...["--plan", source.plan, "--format", "prometheus", "--env", source.env, "--stack", source.stack],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 || code === 2
        ? resolve(out)
        : reject(new Error(`drift report failed (exit ${code}): ${err.trim() || out.trim()}`)),
    );
  });
}

export interface MetricsServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Serves fixed Prometheus text on `/metrics`, as a pushgateway would hold the last report. */
export function serveMetrics(text: string, port: number, host = "127.0.0.1"): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        address: `${host}:${bound}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * `tsx dashboards/src/live/drift-exporter.ts --plan <file> --env <env> --stack <stack> [--port 9469]`:
 * serves a drift report to the local Prometheus, whose `terraform-drift` job scrapes port 9469.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      plan: { type: "string" },
      env: { type: "string" },
      stack: { type: "string" },
      port: { type: "string", default: String(DRIFT_EXPORTER_PORT) },
    },
  });
  if (!values.plan || !values.env || !values.stack) {
    throw new Error(
      "usage: drift-exporter --plan <terraform show -json file> --env <env> --stack <stack> [--port <port>]",
    );
  }
  const text = await renderDriftMetrics({
    plan: path.resolve(values.plan),
    env: values.env,
    stack: values.stack,
  });
  const server = await serveMetrics(text, Number(values.port));
  console.log(
    `serving the drift report of ${values.env}/${values.stack} on http://${server.address}/metrics`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
