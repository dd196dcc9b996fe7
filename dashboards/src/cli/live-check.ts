import { runLiveCheck } from "../live/live-check";

/**
 * `npm run live-check`: needs PostgreSQL and Kafka (`npm run deps:up`); starts its own Prometheus,
 * services and drift report, prints every query with the series it returned, exits 1 on a dead one.
 */
async function main(): Promise<number> {
  const report = await runLiveCheck({ log: (line) => console.log(line) });
  for (const o of report.outcomes) {
    const status = o.finite > 0 ? "ok  " : "DEAD";
    console.log(`${status} ${String(o.series).padStart(3)} series  ${o.source}`);
    if (o.finite === 0) console.log(`       ${o.expr}${o.error ? `\n       error: ${o.error}` : ""}`);
  }
  console.log(
    `\n${report.outcomes.length - report.failures.length} of ${report.outcomes.length} queries returned data ` +
      `(${report.requestsSent} requests, ${report.seconds}s, Prometheus ${report.prometheus})`,
  );
  return report.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
