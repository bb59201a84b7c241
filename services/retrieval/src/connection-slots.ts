/**
 * The connections one protocol of this process may hold at once, from every client
 * together (IMAP_MAX_CONNECTIONS, POP3_MAX_CONNECTIONS): one count shared by the plain
 * and the implicit-TLS listener of the protocol, as a Dovecot service's limit covers
 * all its listeners. A refused client is told to come back (IMAP BYE [UNAVAILABLE],
 * POP3 -ERR [SYS/TEMP]); the slot frees when a session ends.
 */
export class ConnectionSlots {
  private taken = 0;

  constructor(readonly max: number) {}

  /** Takes a slot; false when all `max` are taken. */
  take(): boolean {
    if (this.taken >= this.max) return false;
    this.taken++;
    return true;
  }

  give(): void {
    if (this.taken > 0) this.taken--;
  }

  get inUse(): number {
    return this.taken;
  }
}
