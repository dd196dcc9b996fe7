import type { Logger } from "@blueprint/service-kit";
import type { NotificationRepository } from "../data-access/notification-repository";

/**
 * Keeps one batch's claims leased while the worker sends it, renewing them every third of the
 * lease. A dead worker's claims are therefore free again within one lease, while a live one keeps
 * them however long its batch takes. Time is counted here from when a renewal was sent, never from
 * PostgreSQL's clock, so the lease is never believed longer than it is.
 */
export class ClaimLease {
  private readonly active: Set<string>;
  private readonly leaseMs: number;
  private validUntil: number;
  private renewing = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly repository: NotificationRepository,
    claims: readonly { readonly claim_id: string }[],
    private readonly leaseSeconds: number,
    private readonly logger: Logger,
    /** When the claim was sent to PostgreSQL: its lease started after that, so it lasts at least until then plus the lease. */
    claimSentAt: number,
  ) {
    this.active = new Set(claims.map((c) => c.claim_id));
    this.leaseMs = leaseSeconds * 1_000;
    this.validUntil = claimSentAt + this.leaseMs;
    this.timer = setInterval(() => void this.renew(), this.leaseMs / 3);
    this.timer.unref();
  }

  /**
   * True when the claim is still the worker's for at least a third of the lease: enough for an
   * email started now to finish before anyone else may take the claim over.
   */
  holds(claimId: string): boolean {
    return this.active.has(claimId) && Date.now() + this.leaseMs / 3 < this.validUntil;
  }

  /** The claim's outcome is recorded: it needs no more renewals. */
  settled(claimId: string): void {
    this.active.delete(claimId);
  }

  release(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.active.size === 0) return;
    this.renewing = true;
    const sentAt = Date.now();
    try {
      const ids = [...this.active];
      const kept = await this.repository.renewClaims(ids, this.leaseSeconds);
      for (const id of ids) if (!kept.has(id)) this.active.delete(id);
      this.validUntil = sentAt + this.leaseMs;
    } catch (error) {
      this.logger.warn({ err: error }, "renewing delivery claims failed; unsent ones lapse with their lease");
    } finally {
      this.renewing = false;
    }
  }
}
