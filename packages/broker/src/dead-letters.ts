import amqp from "amqplib";
import type { ChannelModel, ConfirmChannel, GetMessage } from "amqplib";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { Broker, BrokerUnavailableError } from "./broker.js";
import { topology as makeTopology, type Topology } from "./topology.js";

/**
 * The dead-letter queue for operators: list, show, requeue and drop, shared by the
 * admin API and `correo dlq`.
 *
 * AMQP has no random access into a queue. Each operation takes the queue's lock (an
 * exclusive queue `<prefix>.dead-letter.lock`, which RabbitMQ releases by itself when
 * the holder's connection dies), then `basic.get`s dead letters without acking them
 * until it has what it needs, and hands back every one it did not act on (a quorum
 * queue puts them behind any event dead-lettered meanwhile). Nothing is
 * acked before its effect is confirmed: a requeue publishes with publisher confirms
 * (mandatory, so an unroutable event is refused, not lost) and only then acks the dead
 * letter. A crash in between leaves the event both republished and still dead-lettered
 * (at-least-once; every consumer is idempotent), never neither.
 */

export interface DeadLetter {
  /** The AMQP message-id the publisher set (a UUID), or `sha256:<16 hex>` of the body when there is none. */
  id: string;
  /** The routing key the event was published with: its event type. */
  routingKey: string;
  /** The `type` field of the JSON body, when it has one (null for a body that is not JSON). */
  eventType: string | null;
  /** RabbitMQ's reason for the first death: `rejected` (refused as invalid), `delivery_limit`, `expired`, `maxlen`. */
  reason: string | null;
  /** How many times it was dead-lettered (the sum of its x-death counts). */
  deathCount: number;
  originalQueue: string | null;
  originalExchange: string | null;
  firstDeathAt: Date | null;
  /** Body size in bytes. */
  size: number;
}

export interface DeadLetterDetail extends DeadLetter {
  contentType: string | null;
  /** The body as text (UTF-8). */
  body: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  event: unknown;
  /** The AMQP headers, x-death included. */
  headers: Record<string, unknown>;
}

export interface DeadLetterPage {
  /** Dead letters ready in the queue when the listing started. */
  total: number;
  deadLetters: DeadLetter[];
}

/** Another operation (another operator, CLI or admin API) holds the dead-letter queue for longer than we waited. */
export class DeadLetterQueueBusyError extends Error {
  constructor(waitedMs: number) {
    super(`another dead-letter operation held the queue for ${waitedMs} ms; try again`);
    this.name = "DeadLetterQueueBusyError";
  }
}

/** The republished event was not routed to any queue (nothing bound to its routing key); the dead letter stays. */
export class DeadLetterUnroutableError extends Error {
  constructor(exchange: string, routingKey: string) {
    super(`no queue is bound to '${routingKey}' on exchange '${exchange}'; the dead letter was kept`);
    this.name = "DeadLetterUnroutableError";
  }
}

export interface DeadLetterQueueOptions {
  url: string;
  prefix: string;
  /** How long an operation waits for another one to release the queue. */
  lockTimeoutMs?: number;
  confirmTimeoutMs?: number;
  connectionName?: string;
}

/** Headers RabbitMQ writes itself; a requeued event starts without them (a new life, a new delivery count). */
const brokerHeaders = /^x-(death|first-death-.*|last-death-.*|delivery-count)$/;

/** The operations, each on its own short connection so that the lock is held by exactly one of them. */
export class DeadLetterQueue {
  readonly topology: Topology;
  private readonly lockTimeoutMs: number;
  private readonly confirmTimeoutMs: number;

  constructor(private readonly opts: DeadLetterQueueOptions) {
    this.topology = makeTopology(opts.prefix);
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 15_000;
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
  }

  /** Dead letters oldest first, `offset` of them skipped. */
  async list(page: { offset?: number; limit?: number } = {}): Promise<DeadLetterPage> {
    const offset = page.offset ?? 0;
    const limit = page.limit ?? 50;
    return this.session(async (s) => {
      const total = (await s.ch.checkQueue(this.topology.deadLetterQueue)).messageCount;
      const deadLetters: DeadLetter[] = [];
      for (let i = 0; i < offset + limit; i++) {
        const msg = await s.next();
        if (!msg) break;
        if (i >= offset) deadLetters.push(summary(msg));
      }
      return { total, deadLetters };
    });
  }

  async show(id: string): Promise<DeadLetterDetail | undefined> {
    return this.session(async (s) => {
      const msg = await s.find(id);
      return msg ? detail(msg) : undefined;
    });
  }

  /**
   * Publishes the event again to the exchange and routing key it was first dead-lettered
   * from, with its properties and headers minus RabbitMQ's x-death bookkeeping, waits for
   * the confirm, then removes the dead letter. Undefined when there is no such dead letter.
   */
  async requeue(id: string): Promise<DeadLetter | undefined> {
    return this.session(async (s) => {
      const msg = await s.find(id);
      if (!msg) return undefined;
      const dl = summary(msg);
      // Dead-lettered by a work queue: its x-death names the exchange it came through.
      // Put straight into the dead-letter queue (no x-death): the mail exchange.
      const exchange = dl.originalExchange ?? this.topology.exchange;
      const routingKey = firstDeath(msg)?.["routing-keys"]?.[0] ?? msg.fields.routingKey;
      const headers = Object.fromEntries(Object.entries(msg.properties.headers ?? {}).filter(([k]) => !brokerHeaders.test(k)));
      await s.publishConfirmed(exchange, routingKey, msg.content, {
        persistent: true,
        headers,
        ...definedProps(msg),
        // The same id after the requeue, also for an event that had none (its body hash).
        messageId: dl.id,
      });
      s.ack(msg);
      return dl;
    });
  }

  /** Removes the dead letter for good. Undefined when there is no such dead letter. */
  async drop(id: string): Promise<DeadLetter | undefined> {
    return this.session(async (s) => {
      const msg = await s.find(id);
      if (!msg) return undefined;
      s.ack(msg);
      return summary(msg);
    });
  }

  /**
   * One connection: the lock, a confirm channel to read and publish on. Closing the
   * connection hands back every dead letter that was read and not acked.
   */
  private async session<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(this.opts.url, {
        noDelay: true,
        timeout: 5000,
        clientProperties: { connection_name: this.opts.connectionName ?? `correo dead-letters ${hostname()} ${process.pid}` },
      });
    } catch (err) {
      throw new BrokerUnavailableError(`RabbitMQ is unreachable: ${(err as Error).message}`);
    }
    conn.on("error", () => undefined);
    try {
      await this.lock(conn);
      const ch = await conn.createConfirmChannel();
      ch.on("error", () => undefined);
      // Not Broker.declare: a work queue redeclared with another delivery limit is refused.
      await Broker.declareExchanges(ch, this.topology);
      const session = new Session(ch, this.topology.deadLetterQueue, this.confirmTimeoutMs);
      const result = await fn(session);
      // Explicitly, so that the dead letters we only read go back before we answer.
      await session.release();
      return result;
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  private async lock(conn: ChannelModel): Promise<void> {
    const name = `${this.topology.deadLetterQueue}.lock`;
    const started = Date.now();
    for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
      const ch = await conn.createChannel();
      ch.on("error", () => undefined);
      try {
        // Exclusive: a second connection declaring it gets 405 RESOURCE_LOCKED until ours closes.
        await ch.assertQueue(name, { exclusive: true, autoDelete: true, durable: false });
        return;
      } catch (err) {
        if (!/RESOURCE_LOCKED|405/.test((err as Error).message)) throw err;
      }
      if (Date.now() - started >= this.lockTimeoutMs) throw new DeadLetterQueueBusyError(Date.now() - started);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

class Session {
  private readonly held: GetMessage[] = [];
  private readonly returned = new Set<string>();

  constructor(
    readonly ch: ConfirmChannel,
    private readonly queue: string,
    private readonly confirmTimeoutMs: number,
  ) {
    ch.on("return", (msg: { properties: { messageId?: string } }) => this.returned.add(msg.properties.messageId ?? ""));
  }

  /** The next dead letter in queue order, held unacked; false once none is ready. */
  async next(): Promise<GetMessage | false> {
    const msg = await this.ch.get(this.queue, { noAck: false });
    if (msg) this.held.push(msg);
    return msg;
  }

  async find(id: string): Promise<GetMessage | undefined> {
    for (;;) {
      const msg = await this.next();
      if (!msg) return undefined;
      if (idOf(msg) === id) return msg;
    }
  }

  ack(msg: GetMessage): void {
    this.ch.ack(msg);
    this.held.splice(this.held.indexOf(msg), 1);
  }

  async publishConfirmed(exchange: string, routingKey: string, body: Buffer, options: amqp.Options.Publish): Promise<void> {
    const tag = options.messageId ?? "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerUnavailableError(`no confirm from RabbitMQ within ${this.confirmTimeoutMs} ms`)),
        this.confirmTimeoutMs,
      );
      this.ch.publish(exchange, routingKey, body, { ...options, mandatory: true }, (err) => {
        clearTimeout(timer);
        if (err) reject(new BrokerUnavailableError(`RabbitMQ refused the event: ${String(err)}`));
        else resolve();
      });
    });
    // basic.return arrives before the confirm of a mandatory message nobody could take.
    if (this.returned.has(tag)) throw new DeadLetterUnroutableError(exchange, routingKey);
  }

  async release(): Promise<void> {
    for (const msg of this.held.splice(0)) this.ch.nack(msg, false, true);
    await this.ch.close();
  }
}

interface XDeath {
  count?: number;
  reason?: string;
  queue?: string;
  exchange?: string;
  time?: unknown;
  "routing-keys"?: string[];
}

function deaths(msg: GetMessage): XDeath[] {
  const d = msg.properties.headers?.["x-death"];
  return Array.isArray(d) ? (d as XDeath[]) : [];
}

/** x-death is newest first; the first death is the one that says where the event came from. */
function firstDeath(msg: GetMessage): XDeath | undefined {
  const all = deaths(msg);
  const h = msg.properties.headers ?? {};
  const q = h["x-first-death-queue"];
  return all.find((d) => d.queue === q) ?? all[all.length - 1];
}

function idOf(msg: GetMessage): string {
  const id = msg.properties.messageId;
  if (typeof id === "string" && id !== "") return id;
  return `sha256:${createHash("sha256").update(msg.content).digest("hex").slice(0, 16)}`;
}

function timeOf(v: unknown): Date | null {
  if (v instanceof Date) return v;
  if (typeof v === "number") return new Date(v * 1000);
  if (v && typeof v === "object" && "value" in v) return timeOf((v as { value: unknown }).value);
  return null;
}

function parsed(msg: GetMessage): unknown {
  try {
    return JSON.parse(msg.content.toString("utf8"));
  } catch {
    return null;
  }
}

function summary(msg: GetMessage): DeadLetter {
  const h = msg.properties.headers ?? {};
  const first = firstDeath(msg);
  const doc = parsed(msg) as { type?: unknown } | null;
  const str = (v: unknown) => (typeof v === "string" ? v : v instanceof Buffer ? v.toString() : null);
  return {
    id: idOf(msg),
    routingKey: first?.["routing-keys"]?.[0] ?? msg.fields.routingKey,
    eventType: doc && typeof doc === "object" && typeof doc.type === "string" ? doc.type : null,
    reason: str(h["x-first-death-reason"]) ?? first?.reason ?? null,
    deathCount: deaths(msg).reduce((n, d) => n + Number(d.count ?? 1), 0),
    originalQueue: str(h["x-first-death-queue"]) ?? first?.queue ?? null,
    originalExchange: str(h["x-first-death-exchange"]) ?? first?.exchange ?? null,
    firstDeathAt: timeOf(first?.time),
    size: msg.content.length,
  };
}

function detail(msg: GetMessage): DeadLetterDetail {
  return {
    ...summary(msg),
    contentType: msg.properties.contentType ?? null,
    body: msg.content.toString("utf8"),
    event: parsed(msg),
    headers: { ...(msg.properties.headers ?? {}) },
  };
}

/** The original message's properties that were set, so that the requeued event is the same event. */
function definedProps(msg: GetMessage): amqp.Options.Publish {
  const p = msg.properties;
  const out: amqp.Options.Publish = {};
  if (p.contentType) out.contentType = p.contentType;
  if (p.contentEncoding) out.contentEncoding = p.contentEncoding;
  if (p.messageId) out.messageId = p.messageId;
  if (p.correlationId) out.correlationId = p.correlationId;
  if (p.timestamp) out.timestamp = p.timestamp;
  if (p.type) out.type = p.type;
  if (p.appId) out.appId = p.appId;
  return out;
}

/** A dead letter as the admin API and `correo dlq --json` show it: snake_case, dates as ISO 8601. */
export function deadLetterJson(d: DeadLetter) {
  return {
    id: d.id,
    routing_key: d.routingKey,
    event_type: d.eventType,
    reason: d.reason,
    death_count: d.deathCount,
    original_queue: d.originalQueue,
    original_exchange: d.originalExchange,
    first_death_at: d.firstDeathAt?.toISOString() ?? null,
    size: d.size,
  };
}

export function deadLetterDetailJson(d: DeadLetterDetail) {
  return { ...deadLetterJson(d), content_type: d.contentType, body: d.body, event: d.event, headers: jsonHeaders(d.headers) };
}

/** AMQP header values as JSON: byte arrays as text. */
function jsonHeaders(h: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(h, (_k, v: unknown) =>
      v && typeof v === "object" && (v as { type?: unknown }).type === "Buffer" ? Buffer.from((v as { data: number[] }).data).toString() : v,
    ),
  ) as Record<string, unknown>;
}
