import type { Queryable } from "@correo/db";
import type { Clock } from "@correo/spool";
import type { Logger } from "@correo/telemetry";

/** The lease one attempt holds on its deliveries; `leasedUntil` moves with each renewal. */
export interface AttemptLease {
  ids: string[];
  leasedUntil: Date;
}

/** What the renewer extends besides the rows: the copy's connection slots (DestinationSlots.renew). */
export interface RenewsSlots {
  renew(now: Date, ttlMs: number): Promise<number>;
}

/**
 * Keeps the attempt leases of this copy alive while its attempts run (issue 10). The
 * lease (RELAY_ATTEMPT_LEASE) is short, so that the deliveries and connection slots of a
 * copy that died are free again within one lease; an attempt may still wait 10 minutes
 * for the final reply (RFC 5321 §4.5.3.2.6), because the live copy renews.
 *
 * A timer every lease/6 renews, in one UPDATE, every lease that is at least a third of a
 * lease old (so an attempt shorter than that is never renewed: the common path stays two
 * statements), and the copy's slots as old in one Redis script. The UPDATE is keyed on each
 * row's current lease, so a row whose lease lapsed and was claimed by another copy, or
 * whose outcome was recorded (leased_until NULL), is not touched; such a row is logged
 * and dropped from the attempt's lease. The attempt goes on: the other copy may then send
 * the delivery too (at-least-once, docs/reliability.md "Relay window").
 */
export class AttemptLeases {
  private readonly attempts = new Set<AttemptLease>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
    private readonly leaseMs: number,
    private readonly log: Logger,
    private readonly slots?: RenewsSlots,
  ) {}

  /** Starts renewing an attempt's lease (taken by its claim). */
  begin(ids: string[], leasedUntil: Date): AttemptLease {
    const lease = { ids: [...ids], leasedUntil };
    this.attempts.add(lease);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), Math.max(10, Math.floor(this.leaseMs / 6)));
      this.timer.unref();
    }
    return lease;
  }

  /**
   * Stops renewing an attempt's lease; resolves once a renewal under way is done, so that
   * `lease.leasedUntil` is the value in the rows (for a compare-and-clear release).
   */
  async end(lease: AttemptLease): Promise<void> {
    this.attempts.delete(lease);
    if (this.attempts.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    await this.renewing;
  }

  /** Stops every renewal (the copy stops or "dies" in a test): its leases lapse within one lease. */
  stop(): void {
    this.attempts.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.renewing) return;
    this.renewing = this.renew()
      .catch((err: Error) => this.log.warn({ err: err.message }, "attempt lease renewal failed; will retry"))
      .finally(() => (this.renewing = undefined));
  }

  /** One renewal of every lease old enough, and of the copy's slots old enough. */
  async renew(): Promise<void> {
    const now = this.clock.now();
    await this.renewLeases(now);
    const lapsed = await this.slots?.renew(now, this.leaseMs);
    if (lapsed) this.log.warn({ slots: lapsed }, "connection slots lapsed before renewal: the destination may briefly see more connections than its limit");
  }

  private async renewLeases(now: Date): Promise<void> {
    const old = [...this.attempts].filter((a) => a.ids.length > 0 && a.leasedUntil.getTime() - now.getTime() <= (this.leaseMs * 2) / 3);
    if (old.length === 0) return;
    const until = new Date(now.getTime() + this.leaseMs);
    const ids = old.flatMap((a) => a.ids);
    const current = old.flatMap((a) => a.ids.map(() => a.leasedUntil));
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE deliveries d SET leased_until = $1, next_attempt_at = $1
         FROM unnest($2::uuid[], $3::timestamptz[]) AS l(id, until)
        WHERE d.id = l.id AND d.leased_until = l.until
        RETURNING d.id`,
      [until, ids, current],
    );
    const renewed = new Set(rows.map((r) => r.id));
    for (const a of old) {
      const lost = a.ids.filter((id) => !renewed.has(id));
      a.ids = a.ids.filter((id) => renewed.has(id));
      a.leasedUntil = until;
      // Lost while the attempt runs (the lease lapsed before a renewal, e.g. this copy or
      // PostgreSQL stalled; or the outcome was just recorded, then the attempt has ended).
      if (lost.length > 0 && this.attempts.has(a)) {
        this.log.warn({ deliveries: lost }, "attempt lease lost before renewal: another copy may attempt these deliveries too (at-least-once)");
      }
    }
  }
}
