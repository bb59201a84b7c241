/** Takes one of a destination's connection slots (RetrySchedule.acquireSlot's shape). */
export type AcquireSlot<R extends () => Promise<void> = () => Promise<void>> = (
  destination: string,
  limit: number,
  now: Date,
  ttlMs: number,
) => Promise<R | undefined>;

/** Extends the expiry of slots still held (RetrySchedule.renewSlots' shape); returns, per slot, whether it was. */
export type RenewSlots<R> = (held: readonly R[], now: Date, ttlMs: number) => Promise<boolean[]>;

export interface SlotWaitPolicy {
  /**
   * How many deliveries may wait in this copy at once. A waiting delivery keeps its
   * broker message unacknowledged, so this stays below the consumer's prefetch: the
   * rest of the prefetch window always serves other destinations.
   */
  maxWaiting: number;
  /** How long one delivery waits for a slot before it is put back in the schedule. */
  maxWaitMs: number;
  /** How often a waiting delivery asks again when no slot of this copy frees up (others' may). */
  pollMs: number;
  /**
   * How long a released slot stays with this copy for the destination's next delivery
   * before it goes back to Redis (0: at once). A busy destination then costs no Redis
   * round trip per delivery, as Postfix's qmgr keeps its concurrency window in memory.
   */
  keepIdleMs?: number;
}

/** A slot this copy holds: the Redis release and when the slot expires there. */
interface Slot<R> {
  release: R;
  expiresAt: number;
}

/**
 * Connection slots per destination (RELAY_DESTINATION_CONCURRENCY, counted over every
 * relay-queue copy in Redis) with a small local waiting room, as Postfix's qmgr keeps
 * a busy destination's mail in memory until one of its deliveries finishes. When every
 * slot is taken, the delivery waits: woken at once when this copy releases a slot of the
 * destination, and asking again every `pollMs` for the slots other copies release.
 * When the waiting room is full or the wait is over, the caller gets no slot and puts
 * the delivery back in the schedule.
 */
export class DestinationSlots<R extends () => Promise<void> = () => Promise<void>> {
  private readonly waiters = new Map<string, (() => void)[]>();
  /** Released slots kept for the next delivery of their destination. */
  private readonly idle = new Map<string, { slot: Slot<R>; timer: NodeJS.Timeout }[]>();
  /** Slots an attempt of this copy is using now. */
  private readonly inUse = new Set<Slot<R>>();
  private waiting = 0;
  private closed = false;

  constructor(
    private readonly acquireSlot: AcquireSlot<R>,
    private readonly policy: SlotWaitPolicy,
    private readonly renewSlots?: RenewSlots<R>,
  ) {}

  /** How many slots this copy holds (in use or kept idle). */
  held(): number {
    let n = this.inUse.size;
    for (const kept of this.idle.values()) n += kept.length;
    return n;
  }

  /**
   * Extends the slots this copy holds that are a third of `ttlMs` old or older (in use or
   * kept idle) to `ttlMs` from `now`, in one Redis script, while its attempts run: the
   * slot TTL can then be as short as the attempt lease, and a copy that dies frees its
   * slots within one TTL. Returns how many of them were no longer held.
   */
  async renew(now: Date, ttlMs: number): Promise<number> {
    if (!this.renewSlots) return 0;
    const due = (s: Slot<R>) => s.expiresAt - now.getTime() <= (ttlMs * 2) / 3;
    const slots = [...this.inUse].filter(due);
    for (const kept of this.idle.values()) for (const { slot } of kept) if (due(slot)) slots.push(slot);
    if (slots.length === 0) return 0;
    const renewed = await this.renewSlots(
      slots.map((s) => s.release),
      now,
      ttlMs,
    );
    let lapsed = 0;
    slots.forEach((s, i) => {
      if (renewed[i]) s.expiresAt = now.getTime() + ttlMs;
      else lapsed++;
    });
    return lapsed;
  }

  /** A release function, or undefined when no slot came free in time. */
  async acquire(destination: string, limit: number, now: () => Date, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const deadline = Date.now() + this.policy.maxWaitMs;
    for (;;) {
      if (this.closed) return undefined;
      // A kept slot serves if it outlives this attempt's lease by a margin; else it goes back.
      const kept = this.takeIdle(destination, now().getTime() + ttlMs / 2);
      if (kept) return this.hold(destination, kept);
      const at = now().getTime();
      const release = await this.acquireSlot(destination, limit, new Date(at), ttlMs);
      if (release) return this.hold(destination, { release, expiresAt: at + ttlMs });
      const left = deadline - Date.now();
      if (this.closed || left <= 0 || this.waiting >= this.policy.maxWaiting) return undefined;
      await this.waitForRelease(destination, Math.min(left, this.policy.pollMs));
    }
  }

  /**
   * Stops handing out slots and ends every wait at once (the service is stopping): the
   * waiting deliveries go back to the schedule now rather than die waiting, holding
   * their leases until these expire.
   */
  close(): void {
    this.closed = true;
    for (const queue of [...this.waiters.values()]) for (const wake of [...queue]) wake();
    for (const kept of [...this.idle.values()]) {
      for (const { slot, timer } of kept) {
        clearTimeout(timer);
        void slot.release().catch(() => undefined);
      }
    }
    this.idle.clear();
  }

  private hold(destination: string, slot: Slot<R>): () => Promise<void> {
    let released = false;
    this.inUse.add(slot);
    return async () => {
      if (released) return;
      released = true;
      this.inUse.delete(slot);
      const keepMs = this.policy.keepIdleMs ?? 0;
      if (keepMs > 0 && !this.closed) {
        this.keep(destination, slot, keepMs);
        this.waiters.get(destination)?.shift()?.();
        return;
      }
      try {
        await slot.release();
      } finally {
        this.waiters.get(destination)?.shift()?.();
      }
    };
  }

  private keep(destination: string, slot: Slot<R>, keepMs: number): void {
    const kept = this.idle.get(destination) ?? [];
    this.idle.set(destination, kept);
    const entry = {
      slot,
      timer: setTimeout(() => {
        const i = kept.indexOf(entry);
        if (i >= 0) kept.splice(i, 1);
        if (kept.length === 0 && this.idle.get(destination) === kept) this.idle.delete(destination);
        void slot.release().catch(() => undefined);
      }, keepMs),
    };
    entry.timer.unref();
    kept.push(entry);
  }

  private takeIdle(destination: string, validUntil: number): Slot<R> | undefined {
    const kept = this.idle.get(destination);
    while (kept && kept.length > 0) {
      const { slot, timer } = kept.pop()!;
      clearTimeout(timer);
      if (kept.length === 0) this.idle.delete(destination);
      if (slot.expiresAt > validUntil) return slot;
      void slot.release().catch(() => undefined); // about to expire in Redis: take a fresh one
    }
    return undefined;
  }

  private waitForRelease(destination: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const queue = this.waiters.get(destination) ?? [];
      this.waiters.set(destination, queue);
      this.waiting++;
      const wake = () => {
        clearTimeout(timer);
        this.waiting--;
        const i = queue.indexOf(wake);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0 && this.waiters.get(destination) === queue) this.waiters.delete(destination);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      queue.push(wake);
    });
  }
}
