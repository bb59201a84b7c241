import amqp from "amqplib";
import type { ChannelModel, ConfirmChannel, Channel, ConsumeMessage } from "amqplib";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { contracts, isEventType, parseEvent, type EventOf, type EventType } from "@correo/contracts";
import {
  atZero,
  context,
  counter,
  extractTraceContext,
  injectTraceHeaders,
  metricNames,
  SpanKind,
  trace,
  tracer,
  type Logger,
} from "@correo/telemetry";
import { topology as makeTopology, type Topology, type WorkQueue } from "./topology.js";

export interface BrokerOptions {
  url: string;
  prefix: string;
  logger: Logger;
  deliveryLimit?: number;
  /** How long `publish` waits for the broker's confirm. */
  confirmTimeoutMs?: number;
  /** Shown in the RabbitMQ management UI and `rabbitmqctl list_connections user_provided_name`. */
  connectionName?: string;
}

export interface DeliveryMeta {
  /** How many times RabbitMQ has delivered this message before (quorum queues count it). */
  redeliveries: number;
  routingKey: string;
}

export type Handler<T extends EventType> = (event: EventOf<T>, meta: DeliveryMeta) => Promise<void>;

interface Subscription {
  queue: string;
  exclusive: boolean;
  prefetch: number;
  bindings: EventType[];
  onMessage: (msg: ConsumeMessage, channel: Channel | undefined) => Promise<void>;
}

export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BrokerUnavailableError";
  }
}

const published = () => counter(metricNames.brokerPublished, "Events confirmed by RabbitMQ");
const consumed = () => counter(metricNames.brokerConsumed, "Events consumed, by outcome");
const deadLettered = () => counter(metricNames.brokerDeadLettered, "Events sent to the dead-letter queue");

/**
 * One AMQP connection with a confirm channel for publishing and one channel per
 * consumer. When the broker goes away it reconnects with backoff, declares the
 * topology again and resumes every consumer. Unacked messages are redelivered by
 * RabbitMQ, so handlers must be idempotent (they are: unique delivery ids).
 */
export class Broker {
  readonly topology: Topology;
  private conn: ChannelModel | undefined;
  private pub: ConfirmChannel | undefined;
  private readonly subs: Subscription[] = [];
  private closing = false;
  /** How many times the connection was lost and restored. */
  reconnections = 0;
  private connecting: Promise<void> | undefined;
  /** RabbitMQ said connection.blocked (memory or disk alarm): it reads nothing we publish until unblocked. */
  private isBlocked = false;
  private readonly availableListeners: (() => void)[] = [];
  private readonly log: Logger;
  private readonly confirmTimeoutMs: number;

  constructor(private readonly opts: BrokerOptions) {
    this.topology = makeTopology(opts.prefix, opts.deliveryLimit);
    this.log = opts.logger.child({ component: "broker" });
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
  }

  get connected(): boolean {
    return this.pub !== undefined;
  }

  /** Connected and not blocked by a resource alarm: a publish now can be confirmed soon. */
  get publishable(): boolean {
    return this.pub !== undefined && !this.isBlocked;
  }

  /** Calls `listener` whenever publishing becomes possible again: after a reconnection or an unblock. */
  onAvailable(listener: () => void): void {
    this.availableListeners.push(listener);
  }

  private available(): void {
    for (const listener of this.availableListeners) {
      try {
        listener();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "broker availability listener failed");
      }
    }
  }

  /** Connects once; rejects when the broker is unreachable (startup should fail loudly). */
  async connect(): Promise<void> {
    atZero(published(), Object.keys(contracts).map((type) => ({ type })));
    await this.open();
  }

  /** Declares exchanges and queues. Idempotent; every service calls it on connect. */
  static async declare(channel: Channel, t: Topology): Promise<void> {
    await Broker.declareExchanges(channel, t);
    for (const q of Object.values(t.queues)) {
      await channel.assertQueue(q.name, {
        durable: true,
        arguments: {
          "x-queue-type": "quorum",
          "x-delivery-limit": t.deliveryLimit,
          "x-dead-letter-exchange": t.deadLetterExchange,
        },
      });
      for (const key of q.bindings) await channel.bindQueue(q.name, t.exchange, key);
    }
  }

  /**
   * The exchanges and the dead-letter queue, without the work queues (whose delivery
   * limit only the services set): what the dead-letter tools need.
   */
  static async declareExchanges(channel: Channel, t: Topology): Promise<void> {
    await channel.assertExchange(t.exchange, "topic", { durable: true });
    await channel.assertExchange(t.deadLetterExchange, "fanout", { durable: true });
    await channel.assertQueue(t.deadLetterQueue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    await channel.bindQueue(t.deadLetterQueue, t.deadLetterExchange, "");
  }

  private async open(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      // noDelay: without it every publisher confirm waits for Nagle (~40 ms).
      const conn = await amqp.connect(this.opts.url, {
        noDelay: true,
        clientProperties: { connection_name: this.opts.connectionName ?? `correo ${hostname()} ${process.pid}` },
      });
      conn.on("error", (err: Error) => this.log.warn({ err: err.message }, "broker connection error"));
      conn.on("close", () => this.onClose(conn));
      // RabbitMQ blocks publishing connections during a memory or disk alarm; it keeps
      // the socket open but reads nothing, so confirms stop coming until it unblocks.
      conn.on("blocked", (reason: string) => {
        this.isBlocked = true;
        this.log.warn({ reason }, "broker blocked this connection; publishing waits");
      });
      conn.on("unblocked", () => {
        this.isBlocked = false;
        this.log.info("broker unblocked this connection");
        this.available();
      });
      try {
        const pub = await conn.createConfirmChannel();
        pub.on("error", (err: Error) => this.log.warn({ err: err.message }, "publish channel error"));
        pub.on("close", () => this.onChannelLost(conn, "publish"));
        await Broker.declare(pub, this.topology);
        this.conn = conn;
        this.pub = pub;
        for (const sub of this.subs) await this.startSubscription(conn, sub);
      } catch (err) {
        await conn.close().catch(() => undefined);
        throw err;
      }
    })();
    try {
      await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  private onClose(conn: ChannelModel): void {
    if (this.conn !== conn && this.conn !== undefined) return;
    this.conn = undefined;
    this.pub = undefined;
    this.isBlocked = false;
    if (this.closing) return;
    this.log.warn("broker connection lost; reconnecting");
    void this.reconnect();
  }

  /**
   * A channel closed by the broker (a channel-level error) while its connection lives on
   * would leave publishing or a consumer dead for good: start over with a new connection.
   */
  private onChannelLost(conn: ChannelModel, which: string): void {
    if (this.closing || this.conn !== conn) return;
    this.log.warn({ channel: which }, "broker channel closed; reopening the connection");
    void conn.close().catch(() => undefined);
  }

  private async reconnect(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closing) return;
      try {
        await this.open();
        this.reconnections++;
        this.log.info("broker connection restored");
        this.available();
        return;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, retryInMs: delay }, "broker still unreachable");
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Publishes one event and resolves when RabbitMQ confirms it (publisher confirms). */
  async publish<T extends EventType>(event: EventOf<T>): Promise<void> {
    const type = (event as { type: EventType }).type;
    parseEvent(type, event);
    await this.publishRaw(type, Buffer.from(JSON.stringify(event)), injectTraceHeaders());
  }

  /** Publishes an already validated, serialised event (the outbox sweeper's path). */
  async publishRaw(routingKey: string, body: Buffer, headers: Record<string, string>): Promise<void> {
    const pub = this.pub;
    if (!pub) throw new BrokerUnavailableError("not connected to RabbitMQ");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerUnavailableError(`no confirm from RabbitMQ within ${this.confirmTimeoutMs} ms`)),
        this.confirmTimeoutMs,
      );
      try {
        pub.publish(
          this.topology.exchange,
          routingKey,
          body,
          {
            persistent: true,
            contentType: "application/json",
            messageId: randomUUID(),
            timestamp: Math.floor(Date.now() / 1000),
            type: routingKey,
            headers,
          },
          (err) => {
            clearTimeout(timer);
            if (err) reject(new BrokerUnavailableError(`RabbitMQ refused the event: ${String(err)}`));
            else resolve();
          },
        );
      } catch (err) {
        clearTimeout(timer);
        reject(new BrokerUnavailableError(`publish failed: ${(err as Error).message}`));
      }
    });
    published().add(1, { type: routingKey });
  }

  /** Consumes a service's durable work queue (competing consumers). */
  async consume<T extends EventType>(
    queue: WorkQueue,
    types: T[],
    handler: Handler<T>,
    opts: { prefetch?: number } = {},
  ): Promise<void> {
    const spec = this.topology.queues[queue];
    // The outcomes and dead-letter reasons of handle() below, at 0 until the first one.
    atZero(consumed(), types.flatMap((type) => [{ type, outcome: "ok" }, { type, outcome: "error" }]));
    atZero(deadLettered(), types.flatMap((type) => [{ type, reason: "invalid" }, { type, reason: "delivery-limit" }]));
    await this.subscribe({
      queue: spec.name,
      exclusive: false,
      prefetch: opts.prefetch ?? 16,
      bindings: [],
      onMessage: (msg, ch) => this.handle(msg, ch, types, handler),
    });
  }

  /**
   * Every copy of a process gets its own copy of `types` events on a private,
   * auto-deleted queue (for notifications such as mailbox.changed → IDLE), without acks.
   */
  async subscribeNotifications<T extends EventType>(types: T[], handler: Handler<T>): Promise<void> {
    await this.subscribe({
      queue: `${this.topology.notificationQueuePrefix}${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`,
      exclusive: true,
      prefetch: 64,
      bindings: types,
      onMessage: (msg, ch) => this.handle(msg, ch, types, handler),
    });
  }

  private async subscribe(sub: Subscription): Promise<void> {
    this.subs.push(sub);
    if (this.conn) await this.startSubscription(this.conn, sub);
  }

  private async startSubscription(conn: ChannelModel, sub: Subscription): Promise<void> {
    const ch = await conn.createChannel();
    ch.on("error", (err: Error) => this.log.warn({ err: err.message, queue: sub.queue }, "consumer channel error"));
    ch.on("close", () => this.onChannelLost(conn, `consumer of ${sub.queue}`));
    if (sub.exclusive) {
      await ch.assertQueue(sub.queue, { exclusive: true, autoDelete: true, durable: false });
      for (const key of sub.bindings) await ch.bindQueue(sub.queue, this.topology.exchange, key);
    }
    // Notifications (exclusive queues) are hints: consumed with noAck, RabbitMQ forgets each
    // one as it sends it and no ack comes back. One lost in a crash costs a session the
    // wait for its next poll. Work queues ack after the handler, so nothing is lost.
    const noAck = sub.exclusive;
    if (!noAck) await ch.prefetch(sub.prefetch);
    await ch.consume(
      sub.queue,
      (msg) => {
        if (msg) void sub.onMessage(msg, noAck ? undefined : ch);
      },
      { noAck },
    );
  }

  private async handle<T extends EventType>(
    msg: ConsumeMessage,
    /** The channel to settle `msg` on; undefined when it was consumed with noAck. */
    ch: Channel | undefined,
    types: T[],
    handler: Handler<T>,
  ): Promise<void> {
    const routingKey = msg.fields.routingKey;
    const headers = msg.properties.headers ?? {};
    const redeliveries = Number(headers["x-delivery-count"] ?? (msg.fields.redelivered ? 1 : 0));
    let event: EventOf<T>;
    try {
      const doc = JSON.parse(msg.content.toString("utf8")) as { type?: unknown };
      const type = typeof doc.type === "string" ? doc.type : routingKey;
      if (!isEventType(type) || !(types as string[]).includes(type)) {
        throw new Error(`unexpected event type '${type}'`);
      }
      event = parseEvent(type as T, doc);
    } catch (err) {
      // Unparseable or off-contract: retrying cannot help. Straight to the dead-letter queue.
      this.log.error({ err: (err as Error).message, routingKey }, "dead-lettering invalid event");
      deadLettered().add(1, { type: routingKey, reason: "invalid" });
      safely(() => ch?.nack(msg, false, false));
      return;
    }
    const parent = extractTraceContext(headers);
    const span = tracer().startSpan(`${routingKey} process`, { kind: SpanKind.CONSUMER, attributes: {
      "messaging.system": "rabbitmq",
      "messaging.destination.name": this.topology.exchange,
      "messaging.rabbitmq.destination.routing_key": routingKey,
      "messaging.operation.type": "process",
      // What an operator searches by: the message (and delivery) the event is about.
      ...("messageId" in event ? { "correo.message.id": event.messageId } : {}),
      ...("deliveryId" in event ? { "correo.delivery.id": event.deliveryId } : {}),
    } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), () => handler(event, { redeliveries, routingKey }));
      safely(() => ch?.ack(msg));
      consumed().add(1, { type: routingKey, outcome: "ok" });
    } catch (err) {
      span.recordException(err as Error);
      // Quorum queues dead-letter a message once it has been returned more than x-delivery-limit times.
      const willDeadLetter = redeliveries >= this.topology.deliveryLimit;
      this.log.warn({ err: (err as Error).message, routingKey, redeliveries }, willDeadLetter
        ? "handler failed; delivery limit reached, dead-lettering"
        : "handler failed; will be redelivered");
      if (willDeadLetter) deadLettered().add(1, { type: routingKey, reason: "delivery-limit" });
      consumed().add(1, { type: routingKey, outcome: "error" });
      // Back off before handing it back, so a dependency outage does not spin the delivery limit away.
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** redeliveries, 5000)));
      safely(() => ch?.nack(msg, false, true));
    } finally {
      span.end();
    }
  }

  /** For /readyz. */
  async check(): Promise<void> {
    if (!this.pub) throw new Error("not connected to RabbitMQ");
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.conn?.close().catch(() => undefined);
    this.conn = undefined;
    this.pub = undefined;
  }
}

/** Acking on a channel that has just closed throws; the broker redelivers anyway. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* channel gone: RabbitMQ will redeliver */
  }
}
