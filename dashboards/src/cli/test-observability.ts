import { exec } from "../../../scripts/test/suites";
import { promtoolSuite } from "../checks/promtool-suite";
import { REPO_ROOT } from "../generate";

/**
 * `npm run test:observability`: the promtool suite, then the vitest suites of dashboards/ and
 * modules/observability/ (generated files up to date, registry rules, live check, CDKTF synth).
 */
async function main(): Promise<number> {
  const promtool = await promtoolSuite.run(process.env, REPO_ROOT);
  console.log(`\npromtool: ${promtool.passed} passed, ${promtool.failed} failed`);
  const vitest = await exec(
    `${REPO_ROOT}/node_modules/.bin/vitest`,
    ["run", "dashboards", "modules/observability", ...process.argv.slice(2)],
    process.env,
  );
  return promtool.failed === 0 && vitest === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
