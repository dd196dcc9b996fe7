import { createHash } from "node:crypto";

/** Entries are keyed by the token's SHA-256, so each costs the same whatever the token's size. */
function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Callers of tokens already verified, so that a client sending the same token with every request
 * pays for one signature check, not one per request (an ES256 verification was the largest single
 * cost of POST /users). Only successful verifications are kept, keyed by a digest of the whole
 * token (the signature is part of it: a changed byte is a different key); an entry lapses at the token's `exp`
 * plus the clock skew, as the verification would, and at most `maxAgeMs` after it was verified, so
 * that a key withdrawn from the issuer's JWKS stops being honoured within that time.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
  ) {}

  /** The cached value of `token` if it is still valid at `now` (epoch ms). */
  get(token: string, now: number): T | undefined {
    const key = digest(token);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now < entry.until) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Remembers `value` for `token`, verified at `now`, whose claims stop being valid at `validUntil` (epoch ms). */
  set(token: string, value: T, now: number, validUntil: number): void {
    const until = Math.min(validUntil, now + this.maxAgeMs);
    if (until <= now) return;
    const key = digest(token);
    // A token checked again (after a key rotation) replaces its entry and moves to the back.
    if (!this.entries.delete(key) && this.entries.size >= this.maxEntries) {
      // Oldest first out: a bounded map, whatever the number of distinct tokens sent.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
