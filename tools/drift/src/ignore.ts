import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { type PatternSegment, parsePattern, patternCovers, type Segment } from "./attributes";
import { DriftToolError } from "./errors";

const entrySchema = z.strictObject({
  address: z.string().min(1),
  attributes: z.array(z.string().min(1)).min(1).optional(),
  stacks: z.array(z.string().min(1)).min(1).optional(),
  reason: z.string().trim().min(1),
  expires: z.iso.date(),
});

const fileSchema = z.strictObject({
  ignore: z.array(entrySchema),
});

export type IgnoreEntryInput = z.infer<typeof entrySchema>;

/** One accepted-drift rule: which resources (and attributes) to leave out, why, and until when. */
export interface IgnoreEntry extends IgnoreEntryInput {
  /** 1-based position in the file, for messages. */
  readonly position: number;
  readonly addressPattern: RegExp;
  readonly stackPatterns?: readonly RegExp[];
  readonly attributePatterns?: readonly (readonly PatternSegment[])[];
}

/**
 * Turns an address pattern into a regular expression: `*` matches any run of characters,
 * everything else (including `.`, `[` and quotes of Terraform addresses) matches itself.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

/** Today's date in UTC as YYYY-MM-DD, the form ignore entries use. */
export const utcDate = (now: Date) => now.toISOString().slice(0, 10);

/**
 * Reads an ignore file (YAML or JSON by extension; YAML accepts JSON too) and fails when it is
 * malformed or any entry has expired: accepted drift must be looked at again, not forgotten.
 */
export function loadIgnoreFile(file: string, now: Date): IgnoreEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new DriftToolError(
      `cannot read ignore file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let raw: unknown;
  try {
    raw = path.extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new DriftToolError(
      `ignore file ${file} is not valid ${path.extname(file) === ".json" ? "JSON" : "YAML"}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DriftToolError(
      `ignore file ${file} is invalid:\n${z.prettifyError(parsed.error)}\n` +
        "Each entry needs address, reason and expires (YYYY-MM-DD); attributes and stacks are optional lists.",
    );
  }
  const today = utcDate(now);
  const expired = parsed.data.ignore
    .map((entry, i) => ({ entry, position: i + 1 }))
    .filter(({ entry }) => entry.expires < today);
  if (expired.length > 0) {
    const lines = expired.map(
      ({ entry, position }) =>
        `  entry ${position} (address "${entry.address}", reason "${entry.reason}") expired on ${entry.expires}`,
    );
    throw new DriftToolError(
      `ignore file ${file} has expired entries (today is ${today}):\n${lines.join("\n")}\n` +
        "Look at the drift again: fix it, or renew the entry with a new expires date and reason.",
    );
  }
  return parsed.data.ignore.map((entry, i) => ({
    ...entry,
    position: i + 1,
    addressPattern: globToRegExp(entry.address),
    ...(entry.stacks ? { stackPatterns: entry.stacks.map(globToRegExp) } : {}),
    ...(entry.attributes ? { attributePatterns: entry.attributes.map(parseAttribute(file, i + 1)) } : {}),
  }));
}

const parseAttribute = (file: string, position: number) => (attribute: string) => {
  try {
    return parsePattern(attribute);
  } catch (error) {
    throw new DriftToolError(
      `ignore file ${file}, entry ${position}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};

/** The entries that apply to a resource address in a stack. */
export function entriesFor(
  entries: readonly IgnoreEntry[],
  address: string,
  stack: string | undefined,
): IgnoreEntry[] {
  return entries.filter(
    (entry) =>
      entry.addressPattern.test(address) &&
      (!entry.stackPatterns || (stack !== undefined && entry.stackPatterns.some((p) => p.test(stack)))),
  );
}

/** The first entry that ignores a whole resource, if any. */
export const wholeResourceEntry = (entries: readonly IgnoreEntry[]) =>
  entries.find((entry) => !entry.attributePatterns);

/** The first entry that ignores this attribute, if any. */
export const attributeEntry = (entries: readonly IgnoreEntry[], segments: readonly Segment[]) =>
  entries.find((entry) => entry.attributePatterns?.some((pattern) => patternCovers(pattern, segments)));
