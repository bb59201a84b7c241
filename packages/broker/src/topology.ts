import type { EventType } from "@correo/contracts";

/** The durable work queues, one per consuming service (competing consumers). */
/** `inbound`: inbound-route deliveries (issue 15), consumed by relay-queue beside its SMTP queue; `webhooks`: webhook POSTs (issue 15), also relay-queue's. */
export type WorkQueue = "routing" | "relay-queue" | "mailbox" | "inbound" | "webhooks";

export interface QueueSpec {
  name: string;
  bindings: EventType[];
}

export interface Topology {
  /** Durable topic exchange every event is published to, with its type as routing key. */
  exchange: string;
  /** Fanout exchange that receives poison messages (over the delivery limit or unparseable). */
  deadLetterExchange: string;
  deadLetterQueue: string;
  queues: Record<WorkQueue, QueueSpec>;
  /** Prefix of the per-process notification queues (mailbox.changed fans out to every retrieval copy). */
  notificationQueuePrefix: string;
  deliveryLimit: number;
}

/**
 * Every broker name, derived from one prefix so that test runs and tenants never see
 * each other's traffic.
 */
export function topology(prefix: string, deliveryLimit = 10): Topology {
  return {
    exchange: `${prefix}.mail`,
    deadLetterExchange: `${prefix}.mail.dlx`,
    deadLetterQueue: `${prefix}.dead-letter`,
    queues: {
      routing: { name: `${prefix}.routing`, bindings: ["message.submitted"] },
      "relay-queue": { name: `${prefix}.relay-queue`, bindings: ["delivery.remote"] },
      mailbox: { name: `${prefix}.mailbox`, bindings: ["delivery.local"] },
      inbound: { name: `${prefix}.inbound`, bindings: ["delivery.inbound"] },
      // Issue 15: webhook POSTs, consumed by relay-queue; a queue of its own so that a slow
      // endpoint's backlog never sits in front of mail.
      webhooks: { name: `${prefix}.webhooks`, bindings: ["webhook.due"] },
    },
    notificationQueuePrefix: `${prefix}.notify.`,
    deliveryLimit,
  };
}
