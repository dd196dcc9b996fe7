/**
 * Callers of tokens already verified, so that a client sending the same token with every request
 * pays for one signature check, not one per request (an ES256 verification was the largest single
 * cost of POST /users). Only successful verifications are kept, keyed by the whole token (the
 * signature is part of it: a changed byte is a different key); an entry lapses at the token's `exp`
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
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now < entry.until) return entry.value;
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers `value` for `token`, verified at `now`, whose claims stop being valid at `validUntil` (epoch ms). */
  set(token: string, value: T, now: number, validUntil: number): void {
    const until = Math.min(validUntil, now + this.maxAgeMs);
    if (until <= now) return;
    // Oldest first out: a bounded map, whatever the number of distinct tokens sent.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
