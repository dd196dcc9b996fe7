// Validates the OpenAPI document on stdin with @seriousme/openapi-schema-validator (ESM-only,
// so Jest suites run it in a child process) and prints {valid, version, errors} as JSON.
import { Validator } from "@seriousme/openapi-schema-validator";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const validator = new Validator();
const result = await validator.validate(JSON.parse(input));
console.log(
  JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors ?? null }),
);
