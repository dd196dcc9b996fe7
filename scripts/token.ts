import { parseArgs } from "node:util";
import { AUTH_SCOPES } from "@blueprint/service-kit/catalog";
import { ALL_SCOPES, devToken } from "@blueprint/service-kit/dev-tokens";

/*
 * Prints a token of the development issuer (the key under BLUEPRINT_LOCAL_DIR, made on first use),
 * and nothing else on stdout, for `curl -H "authorization: Bearer $(npm run -s token -- ...)"`.
 */

const USAGE =
  'usage: token --sub <id> [--scope "<space-separated scopes>"] [--expires <seconds>] | token --admin [--sub <id>]';

/** Subject of `--admin` tokens when no `--sub` is given. */
const ADMIN_SUBJECT = "local-admin";

export interface TokenRequest {
  readonly sub: string;
  readonly scopes: string[];
  readonly expiresInSeconds: number;
}

/** The token the arguments ask for; throws naming the argument that is wrong. */
export function parseTokenArgs(args: readonly string[]): TokenRequest {
  const { values } = parseArgs({
    args: [...args],
    options: {
      sub: { type: "string" },
      scope: { type: "string" },
      admin: { type: "boolean", default: false },
      expires: { type: "string", default: "3600" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.admin && values.scope !== undefined)
    throw new Error(`--admin holds every scope; drop --scope\n${USAGE}`);
  const sub = values.sub ?? (values.admin ? ADMIN_SUBJECT : undefined);
  if (sub === undefined || sub.trim() === "")
    throw new Error(`--sub <id> is required without --admin\n${USAGE}`);
  const scopes = values.admin ? [...ALL_SCOPES] : (values.scope ?? "").split(/\s+/).filter((s) => s !== "");
  const unknown = scopes.filter((scope) => !Object.hasOwn(AUTH_SCOPES, scope));
  if (unknown.length > 0) {
    throw new Error(`unknown scope ${unknown.join(", ")}; the scopes are: ${ALL_SCOPES.join(", ")}`);
  }
  const expiresInSeconds = Number(values.expires);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > 86_400) {
    throw new Error(`--expires must be whole seconds from 1 to 86400, got "${values.expires}"`);
  }
  return { sub, scopes, expiresInSeconds };
}

if (require.main === module) {
  Promise.resolve()
    .then(() => devToken(parseTokenArgs(process.argv.slice(2))))
    .then(
      (token) => process.stdout.write(`${token}\n`),
      (error: unknown) => {
        console.error(`token: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
}
