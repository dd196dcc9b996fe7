import { isDeepStrictEqual } from "node:util";
import { DriftToolError } from "./errors";

/** One step into a resource's attribute tree: an object key or a list index. */
export type Segment = string | number;

/** Shown instead of a value Terraform marks sensitive. */
export const SENSITIVE = "(sensitive)";
/** Shown instead of a value Terraform learns only during apply. */
export const UNKNOWN = "(known after apply)";

/** One changed attribute, with values safe to show: sensitive ones are masked. */
export interface AttributeChange {
  /** Path such as `ingress[0].cidr_blocks[1]` or `tags["kubernetes.io/role"]`. */
  readonly path: string;
  /** Value before; `null` when the attribute was absent or null. */
  readonly before: unknown;
  /** Value after; `null` when the attribute is absent or null. */
  readonly after: unknown;
  readonly beforeSensitive?: true;
  readonly afterSensitive?: true;
  readonly afterUnknown?: true;
  /** Set when changing this attribute is why Terraform replaces the resource. */
  readonly forcesReplacement?: true;
}

/** An attribute change together with its parsed path, for matching rules and ignore entries. */
export interface LocatedChange {
  readonly segments: readonly Segment[];
  readonly change: AttributeChange;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Formats segments the way Terraform's plan output names attributes. */
export function formatPath(segments: readonly Segment[]): string {
  return segments
    .map((segment, i) => {
      if (typeof segment === "number") return `[${segment}]`;
      if (IDENTIFIER.test(segment)) return i === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join("");
}

/** Matches any single segment in an attribute pattern. */
export const WILDCARD = Symbol("wildcard");
export type PatternSegment = Segment | typeof WILDCARD;

const TOKEN = /^\.?(?:([A-Za-z0-9_-]+)|(\*)|\[(\d+)\]|\[(\*)\]|\[("(?:[^"\\]|\\.)*")\])/;

/**
 * Parses an attribute path pattern: `desired_count`, `tags.Owner`, `ingress[*].cidr_blocks`,
 * `tags["kubernetes.io/role"]`; `*` and `[*]` match any one key or index.
 */
export function parsePattern(pattern: string): PatternSegment[] {
  const segments: PatternSegment[] = [];
  let rest = pattern.trim();
  if (rest === "") throw new DriftToolError("an attribute path must not be empty");
  while (rest !== "") {
    const match = TOKEN.exec(rest);
    if (!match) {
      throw new DriftToolError(
        `cannot read attribute path "${pattern}" at "${rest}"; write paths like tags.Owner, ingress[*].cidr_blocks or tags["a.b"]`,
      );
    }
    const [whole, key, star, index, indexStar, quoted] = match;
    if (key !== undefined) segments.push(/^\d+$/.test(key) ? Number(key) : key);
    else if (star !== undefined || indexStar !== undefined) segments.push(WILDCARD);
    else if (index !== undefined) segments.push(Number(index));
    else if (quoted !== undefined) segments.push(JSON.parse(quoted) as string);
    rest = rest.slice(whole.length);
  }
  return segments;
}

/** True when `pattern` names `segments` or one of their ancestors (`tags` covers `tags.Owner`). */
export function patternCovers(pattern: readonly PatternSegment[], segments: readonly Segment[]): boolean {
  if (pattern.length > segments.length) return false;
  return pattern.every((p, i) => p === WILDCARD || p === segments[i]);
}

type Container = Record<string, unknown> | unknown[];

const byKey = (a: Segment, b: Segment) =>
  typeof a === "number" && typeof b === "number"
    ? a - b
    : String(a) < String(b)
      ? -1
      : String(a) > String(b)
        ? 1
        : 0;

const isContainer = (value: unknown): value is Container => typeof value === "object" && value !== null;

function child(value: unknown, key: Segment): unknown {
  if (Array.isArray(value)) return typeof key === "number" ? value[key] : undefined;
  if (isContainer(value)) return (value as Record<string, unknown>)[String(key)];
  return undefined;
}

function keysOf(value: unknown): Segment[] {
  if (Array.isArray(value)) return value.map((_, i) => i);
  if (isContainer(value)) return Object.keys(value);
  return [];
}

/** Replaces every part of `value` that `sensitive` marks with {@link SENSITIVE}. */
export function mask(value: unknown, sensitive: unknown): unknown {
  if (sensitive === true) return SENSITIVE;
  if (!isContainer(value) || !isContainer(sensitive)) return value;
  if (Array.isArray(value)) return value.map((item, i) => mask(item, child(sensitive, i)));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, child(sensitive, k))]));
}

/** The object or array a string holds as JSON, if it holds one. */
function jsonDocument(value: unknown): Container | undefined {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isContainer(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const containsTrue = (marker: unknown): boolean =>
  marker === true || (isContainer(marker) && Object.values(marker).some(containsTrue));

export interface ChangeValues {
  readonly before: unknown;
  readonly after: unknown;
  readonly beforeSensitive: unknown;
  readonly afterSensitive: unknown;
  readonly afterUnknown: unknown;
  readonly replacePaths: readonly (readonly Segment[])[];
}

/**
 * Lists the attributes whose value differs between `before` and `after`, down to leaves, with
 * sensitive values masked and values Terraform does not know yet marked as such.
 */
export function diffAttributes(values: ChangeValues): LocatedChange[] {
  const out: LocatedChange[] = [];
  const push = (segments: Segment[], change: Omit<AttributeChange, "path" | "forcesReplacement">) => {
    const forces = values.replacePaths.some(
      (replacePath) =>
        replacePath.length <= segments.length && replacePath.every((p, i) => p === segments[i]),
    );
    const entry: AttributeChange = {
      path: formatPath(segments),
      ...change,
      ...(forces ? { forcesReplacement: true as const } : {}),
    };
    out.push({ segments, change: entry });
  };

  const walk = (
    segments: Segment[],
    before: unknown,
    after: unknown,
    beforeSensitive: unknown,
    afterSensitive: unknown,
    afterUnknown: unknown,
  ) => {
    const shownBefore = mask(before ?? null, beforeSensitive);
    const flags = {
      ...(beforeSensitive === true && before != null ? { beforeSensitive: true as const } : {}),
      ...(afterSensitive === true && after != null ? { afterSensitive: true as const } : {}),
    };
    if (afterUnknown === true) {
      push(segments, { before: shownBefore, after: UNKNOWN, ...flags, afterUnknown: true });
      return;
    }
    if (beforeSensitive === true || afterSensitive === true) {
      if (!isDeepStrictEqual(before ?? null, after ?? null) || containsTrue(afterUnknown)) {
        push(segments, { before: shownBefore, after: mask(after ?? null, afterSensitive), ...flags });
      }
      return;
    }
    const containers = isContainer(before) || isContainer(after) || isContainer(afterUnknown);
    const mismatched =
      (isContainer(before) && after != null && !isContainer(after)) ||
      (isContainer(after) && before != null && !isContainer(before)) ||
      (isContainer(before) && isContainer(after) && Array.isArray(before) !== Array.isArray(after));
    if (containers && !mismatched) {
      const keys = [...new Set([...keysOf(before), ...keysOf(after), ...keysOf(afterUnknown)])].sort(byKey);
      for (const key of keys) {
        walk(
          [...segments, key],
          child(before, key),
          child(after, key),
          child(beforeSensitive, key),
          child(afterSensitive, key),
          child(afterUnknown, key),
        );
      }
      return;
    }
    if (isDeepStrictEqual(before ?? null, after ?? null)) return;
    // JSON documents in string attributes (IAM and bucket policies) are compared by their content,
    // so a reviewer sees the statement that changed rather than two long strings.
    const beforeDocument = jsonDocument(before);
    const afterDocument = jsonDocument(after);
    if (beforeDocument && afterDocument && !isDeepStrictEqual(beforeDocument, afterDocument)) {
      walk(segments, beforeDocument, afterDocument, undefined, undefined, undefined);
      return;
    }
    push(segments, { before: shownBefore, after: mask(after ?? null, afterSensitive), ...flags });
  };

  walk([], values.before, values.after, values.beforeSensitive, values.afterSensitive, values.afterUnknown);
  return out;
}
