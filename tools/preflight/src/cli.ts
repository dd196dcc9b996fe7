import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { STSClient } from "@aws-sdk/client-sts";
import { selectEnvironments } from "../../../environments";
import { formatReport, runChecks } from "./checks";

/** `npm run preflight -- --env <env>`: checks the account behind the current AWS credentials. */
async function main(argv: readonly string[]): Promise<number> {
  const index = argv.indexOf("--env");
  const name = index >= 0 ? argv[index + 1] : undefined;
  if (!name) {
    console.error("usage: npm run preflight -- --env <dev|staging|prod>");
    return 2;
  }
  const [env] = selectEnvironments(name);
  if (!env) return 2;
  const region = env.region;
  const results = await runChecks(env, {
    sts: new STSClient({ region }),
    iam: new IAMClient({ region }),
    ssoAdmin: new SSOAdminClient({ region }),
    serviceQuotas: new ServiceQuotasClient({ region }),
    lambda: new LambdaClient({ region }),
    codebuild: new CodeBuildClient({ region }),
  });
  console.log(formatReport(env, results));
  return results.some((r) => r.status === "fail") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(error.message);
    process.exitCode = 2;
  },
);
