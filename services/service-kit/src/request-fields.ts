import { fullFormats } from "ajv-formats/dist/formats";
import { z } from "zod";

/*
 * Request fields that end up in an event. Each accepts exactly what the event contract accepts
 * (the same email format, lengths counted as JSON Schema counts them) and only text PostgreSQL can
 * store, so an accepted request can neither produce an event its consumers dead-letter nor fail
 * in the database.
 */

/**
 * The contracts' `email` format (ajv-formats), spelt out in both cases instead of with the `i`
 * flag because an OpenAPI `pattern` carries no flags.
 */
const CONTRACT_EMAIL = new RegExp((fullFormats.email as RegExp).source.replaceAll("a-z", "a-zA-Z"));

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** No NUL (PostgreSQL text cannot hold it) and no surrogate without its pair (not encodable as UTF-8). */
const storable = (text: string) => !text.includes("\u0000") && !UNPAIRED_SURROGATE.test(text);

/** JSON Schema's `maxLength` counts code points, not UTF-16 units. */
const codePoints = (text: string) => [...text].length;

/** The length limits of a string property of an event contract. */
export interface TextLimits {
  readonly minLength: number;
  readonly maxLength: number;
}

/** An email address as the event contracts accept it, lower-cased (stored and compared so). */
export function contractEmail(limits: Pick<TextLimits, "maxLength">) {
  return z.email({ pattern: CONTRACT_EMAIL }).max(limits.maxLength).toLowerCase();
}

/** Text within a contract's limits once trimmed, and storable in PostgreSQL. */
export function contractText(limits: TextLimits) {
  return z
    .string()
    .trim()
    .refine(storable, "contains a NUL character or an unpaired surrogate")
    .refine(
      (text) => codePoints(text) >= limits.minLength,
      `must have at least ${limits.minLength} characters`,
    )
    .refine(
      (text) => codePoints(text) <= limits.maxLength,
      `must have at most ${limits.maxLength} characters`,
    )
    .meta({ minLength: limits.minLength, maxLength: limits.maxLength });
}
