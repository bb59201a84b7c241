import { createClient, type Client, type Queryable } from "@correo/db";
import type { InboundPolicy } from "@correo/config";
import { inboundPolicies } from "./domains.js";
import { resolveRecipient, type PostmasterOptions } from "./postmaster.js";
import type { RecipientStatus } from "./recipients.js";
import { findTransport, type Transport } from "./transports.js";

/** The directory questions asked for every message: at RCPT, at the end of DATA, in routing. */
export interface DirectoryLookups {
  resolveRecipient(address: string, opts?: PostmasterOptions): Promise<RecipientStatus>;
  inboundPolicies(domains: string[]): Promise<Map<string, InboundPolicy | null>>;
  findTransport(domain: string): Promise<Transport | undefined>;
}

/** The same questions asked of the database every time. */
export function uncachedDirectory(db: Queryable): DirectoryLookups {
  return {
    resolveRecipient: (address, opts) => resolveRecipient(db, address, opts),
    inboundPolicies: (domains) => inboundPolicies(db, domains),
    findTransport: (domain) => findTransport(db, domain),
  };
}

/** The channel migration 026's triggers notify on every change to domains, aliases, accounts, routes and transports. */
export const DIRECTORY_CHANNEL = "correo_directory";

export interface DirectoryCacheOptions {
  /** Longest an answer is kept (DIRECTORY_CACHE_TTL); 0 turns the cache off. */
  ttlMs: number;
  /** Most answers kept; the oldest go first. */
  maxEntries?: number;
  /** For the LISTEN connection; without it (or while it is down) nothing is cached. */
  databaseUrl?: string;
  applicationName?: string;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  now?: () => number;
  /** Delay before the LISTEN connection is opened again after it was lost. */
  reconnectMs?: number;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

/**
 * The directory's answers, kept in the process: Postfix's proxymap and Dovecot's auth
 * cache for the questions every message asks (is this recipient ours, whose policy, which
 * transport). Without it each message cost six directory statements, three at RCPT and
 * the same three again in routing.
 *
 * Staying true: a dedicated connection LISTENs on `correo_directory`, where triggers
 * (migration 026) announce every committed change; a notification empties the cache.
 * While that connection is not up (not yet, or lost) nothing is cached and every question
 * goes to the database, so a missed notification cannot leave a stale answer. A question
 * that was in flight when a notification came is answered but not remembered (its read
 * may predate the change). The TTL bounds an entry's life whatever happens.
 */
export class DirectoryCache implements DirectoryLookups {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly inner: DirectoryLookups;
  private generation = 0;
  private listening = false;
  private client: Client | undefined;
  private closed = false;
  private reconnect: NodeJS.Timeout | undefined;
  /** Answers served from memory and from the database, for the tests and the bench. */
  readonly stats = { hits: 0, misses: 0, invalidations: 0 };

  constructor(
    db: Queryable,
    private readonly opts: DirectoryCacheOptions,
  ) {
    this.inner = uncachedDirectory(db);
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Whether answers are being kept (the LISTEN connection is up and the TTL is not 0). */
  get active(): boolean {
    return this.listening && this.opts.ttlMs > 0;
  }

  /** Opens the LISTEN connection; resolves once it listens (or at once when the cache is off). */
  async start(): Promise<void> {
    if (this.opts.ttlMs <= 0 || !this.opts.databaseUrl) return;
    await this.listen().catch((err: Error) => this.lost(err));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnect);
    this.forget(false);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  resolveRecipient(address: string, opts: PostmasterOptions = {}): Promise<RecipientStatus> {
    return this.cached(`r\0${opts.postmaster ?? ""}\0${address}`, () => this.inner.resolveRecipient(address, opts));
  }

  async inboundPolicies(domains: string[]): Promise<Map<string, InboundPolicy | null>> {
    const key = `p\0${[...domains].sort().join("\0")}`;
    return new Map(await this.cached(key, async () => [...(await this.inner.inboundPolicies(domains))]));
  }

  findTransport(domain: string): Promise<Transport | undefined> {
    return this.cached(`t\0${domain.toLowerCase()}`, () => this.inner.findTransport(domain));
  }

  private async cached<T>(key: string, ask: () => Promise<T>): Promise<T> {
    if (!this.active) return ask();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) {
      this.stats.hits++;
      return hit.value as T;
    }
    this.stats.misses++;
    const generation = this.generation;
    const value = await ask();
    // Changed (or lost the connection) while asking: the answer may be the old one.
    if (generation === this.generation && this.active) {
      this.entries.delete(key);
      this.entries.set(key, { value, expiresAt: this.now() + this.opts.ttlMs });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    return value;
  }

  private forget(counted = true): void {
    this.generation++;
    this.entries.clear();
    if (counted) this.stats.invalidations++;
  }

  private async listen(): Promise<void> {
    const client = createClient(this.opts.databaseUrl!, this.opts.applicationName ? { applicationName: this.opts.applicationName } : {});
    this.client = client;
    client.on("notification", (msg) => {
      if (msg.channel === DIRECTORY_CHANNEL) this.forget();
    });
    client.on("error", (err) => this.lost(err));
    client.on("end", () => this.lost(new Error("connection ended")));
    await client.connect();
    await client.query(`LISTEN ${DIRECTORY_CHANNEL}`);
    if (this.client !== client || this.closed) return void (await client.end().catch(() => undefined));
    // Whatever changed while nobody listened is unknown: start empty.
    this.forget(false);
    this.listening = true;
  }

  private lost(err: Error): void {
    const client = this.client;
    if (!client && !this.listening) return;
    this.client = undefined;
    this.listening = false;
    this.forget(false);
    void client?.end().catch(() => undefined);
    if (this.closed) return;
    this.opts.log?.warn({ err: err.message }, "directory cache: LISTEN connection lost; asking the database until it is back");
    clearTimeout(this.reconnect);
    this.reconnect = setTimeout(() => {
      if (this.closed) return;
      this.listen()
        .then(() => this.opts.log?.info({}, "directory cache: listening again"))
        .catch((e: Error) => this.lost(e));
    }, this.opts.reconnectMs ?? 1000);
    this.reconnect.unref();
  }
}
