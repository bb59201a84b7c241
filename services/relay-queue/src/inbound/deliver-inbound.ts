import type { Pool } from "@correo/db";
import type { DeliveryInbound } from "@correo/contracts";
import { findAccount, findInboundRoute, routeFor, type InboundRoute } from "@correo/directory";
import { SIGNATURE_HEADER, signatureHeader, signLink } from "@correo/signed-post";
import { getBlob, transitionAndAnnounce, type Announcement, type Change, type Clock, type DeliveryState, type Outbox } from "@correo/spool";
import type { BackoffPolicy, Random, RetrySchedule } from "@correo/queue";
import { atZero, counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { decideEndpoint, type EndpointAnswer, type EndpointVerdict } from "./endpoint-verdict.js";
import { attachmentPath, buildPayload } from "@correo/inbound";

export interface InboundDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  schedule: Pick<RetrySchedule, "add">;
  /** The relay's back-off (RELAY_MIN_BACKOFF doubling to RELAY_MAX_BACKOFF, jittered). */
  policy: BackoffPolicy;
  random: Random;
  /** INBOUND_PUBLIC_URL: the submission HTTP API as endpoints reach it (attachment links). */
  publicUrl: string;
  /** INBOUND_LINK_TTL, ms. */
  linkTtlMs: number;
  /** INBOUND_POST_TIMEOUT, ms; also the attempt's lease. */
  postTimeoutMs: number;
  /** REDRIVE_AFTER, ms: how long the mailbox has for a fallback delivery. */
  redriveAfterMs: number;
  log: Logger;
}

const posts = () => counter(metricNames.inboundPosts, "POSTs to inbound routes' endpoints, by outcome (delivered, retry, fallback)");
const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");

export function inboundMetricsAtZero(): void {
  atZero(posts(), ["delivered", "retry", "fallback"].map((outcome) => ({ outcome })));
  atZero(completed(), ["delivered", "bounced"].map((outcome) => ({ outcome, route: "inbound" })));
}

interface Claimed {
  state: DeliveryState;
  attempts: number;
  accepted_at: Date;
  blob_id: string;
}

/**
 * One attempt for an inbound route's delivery: claim it (the lease moves its next action
 * time past the POST, so neither another copy nor a re-drive takes it meanwhile), build
 * the JSON, POST it signed, and record the verdict in one statement. Idempotent: a
 * delivery already final, not due, held or leased is skipped.
 */
export async function deliverInbound(deps: InboundDeps, event: DeliveryInbound): Promise<void> {
  const now = deps.clock.now();
  const leasedUntil = new Date(now.getTime() + deps.postTimeoutMs + 5000);
  const { rows } = await deps.pool.query<Claimed>(
    `UPDATE deliveries d SET leased_until = $3, next_attempt_at = $3
       FROM messages m
      WHERE d.id = $1 AND m.id = d.message_id AND d.route = 'inbound' AND d.held_at IS NULL
        AND (d.state = 'routed' OR (d.state = 'deferred' AND d.next_attempt_at <= $2))
        AND (d.leased_until IS NULL OR d.leased_until <= $2)
      RETURNING d.state, d.attempts, m.created_at AS accepted_at, m.blob_id`,
    [event.deliveryId, now, leasedUntil],
  );
  const claimed = rows[0];
  if (!claimed) {
    if (await redriveFallback(deps, event, now)) return;
    deps.log.info({ deliveryId: event.deliveryId }, "inbound delivery not due, leased or final; event ignored");
    return;
  }
  const route = (await findInboundRoute(deps.pool, event.routeId)) ?? (await routeFor(deps.pool, event.recipient));
  const base: Omit<Change, "state" | "event"> = { deliveryId: event.deliveryId, at: now, expectedState: claimed.state, countAttempt: true };
  if (!route) {
    // The route was removed after the message was accepted for it: nothing says where it goes now.
    const response = `550 5.1.1 <${event.recipient}>: the inbound route this message was accepted for was removed`;
    await record(deps, event, [{ ...base, state: "bounced", event: "bounced", response }], []);
    completed().add(1, { outcome: "bounced", route: "inbound" });
    return;
  }
  const raw = await getBlob(deps.pool, claimed.blob_id);
  if (!raw) throw new Error(`blob ${claimed.blob_id} of message ${event.messageId} is missing`);
  const expiresAt = new Date(now.getTime() + deps.linkTtlMs);
  const payload = await buildPayload({
    raw,
    messageId: event.messageId,
    deliveryId: event.deliveryId,
    routeId: route.id,
    receivedAt: claimed.accepted_at,
    envelopeFrom: event.envelopeFrom,
    recipient: event.recipient,
    inlineLimitBytes: route.inlineLimitBytes,
    linkFor: (index) => {
      const path = attachmentPath(route.id, event.deliveryId, index);
      return `${deps.publicUrl.replace(/\/$/, "")}${path}?${signLink(route.secret, path, expiresAt)}`;
    },
  });
  const answer = await post(route, JSON.stringify(payload), deps);
  const after = deps.clock.now();
  const verdict = decideEndpoint({
    url: route.url,
    answer,
    now: after,
    acceptedAt: claimed.accepted_at,
    attempts: claimed.attempts + 1,
    giveUpAfterSeconds: route.giveUpAfterSeconds,
    fallback: route.fallback,
    policy: deps.policy,
    random: deps.random,
  });
  posts().add(1, { outcome: verdict.kind });
  await apply(deps, event, route, { ...base, at: after }, verdict, after, claimed.accepted_at);
  deps.log.info({ deliveryId: event.deliveryId, route: route.pattern, outcome: verdict.kind, response: verdict.response }, "inbound POST");
}

/**
 * A delivery handed to its fallback mailbox is routed `local`; when the mailbox did not
 * take it in time (its event lost, or a full mailbox answering 452), routing's re-drive
 * sees the routed address again and announces delivery.inbound. Its fallback is what
 * must run again: delivery.local to the fallback account, with a new next action time.
 */
async function redriveFallback(deps: InboundDeps, event: DeliveryInbound, now: Date): Promise<boolean> {
  const { rows } = await deps.pool.query("SELECT 1 FROM deliveries WHERE id = $1 AND state = 'routed' AND route = 'local' AND next_attempt_at <= $2", [
    event.deliveryId,
    now,
  ]);
  if (!rows[0]) return false;
  const route = (await findInboundRoute(deps.pool, event.routeId)) ?? (await routeFor(deps.pool, event.recipient));
  const account = route?.fallback.kind === "mailbox" ? await findAccount(deps.pool, route.fallback.address) : undefined;
  if (!account?.enabled) return false;
  const next = new Date(now.getTime() + deps.redriveAfterMs);
  const { rowCount } = await deps.pool.query(
    "UPDATE deliveries SET next_attempt_at = $2, updated_at = $3 WHERE id = $1 AND state = 'routed' AND route = 'local'",
    [event.deliveryId, next, now],
  );
  if (!rowCount) return false;
  deps.outbox.announce(
    await transitionAndAnnounce(deps.pool, deps.outbox, [], [
      { event: { type: "delivery.local", version: 1, messageId: event.messageId, deliveryId: event.deliveryId, blobId: event.blobId, recipient: event.recipient, accountId: account.id, mailbox: "INBOX" } },
    ]),
  );
  deps.log.info({ deliveryId: event.deliveryId, fallback: account.address }, "inbound fallback re-driven to its mailbox");
  return true;
}

async function apply(
  deps: InboundDeps,
  event: DeliveryInbound,
  route: InboundRoute,
  base: Omit<Change, "state" | "event">,
  v: EndpointVerdict,
  now: Date,
  acceptedAt: Date,
) {
  if (v.kind === "delivered") {
    await record(deps, event, [{ ...base, state: "delivered", event: "delivered", response: v.response }], []);
    completed().add(1, { outcome: "delivered", route: "inbound" });
    deliveryLatency().record((now.getTime() - acceptedAt.getTime()) / 1000, { route: "inbound" });
    return;
  }
  if (v.kind === "retry") {
    await record(deps, event, [{ ...base, state: "deferred", event: "deferred", nextAttemptAt: v.at, response: v.response }], []);
    await deps.schedule.add([{ deliveryId: event.deliveryId, dueAt: v.at }]);
    return;
  }
  const giveUp = `endpoint kept failing for ${route.giveUpAfterSeconds}s`;
  if (v.fallback.kind === "mailbox") {
    const account = await findAccount(deps.pool, v.fallback.address);
    if (account?.enabled) {
      // The existing local path: routed `local` to the fallback account; the mailbox appends it.
      const change: Change = {
        ...base,
        countAttempt: false,
        state: "routed",
        event: "routed",
        route: "local",
        nextAttemptAt: new Date(now.getTime() + deps.redriveAfterMs),
        response: `inbound route ${route.pattern}: ${giveUp}, falling back to mailbox INBOX of ${account.address}; last: ${v.response}`,
      };
      const local: Announcement = {
        event: {
          type: "delivery.local",
          version: 1,
          messageId: event.messageId,
          deliveryId: event.deliveryId,
          blobId: event.blobId,
          recipient: event.recipient,
          accountId: account.id,
          mailbox: "INBOX",
        },
        guard: [event.deliveryId],
      };
      await record(deps, event, [change], [local]);
      return;
    }
    deps.log.warn({ route: route.pattern, fallback: v.fallback.address }, "inbound fallback mailbox is gone or disabled; bouncing");
  }
  // RFC 3463 X.4.7: delivery time expired (here: the route's give-up time); the DSN
  // sweeper sends the report to the sender, with this text as its diagnostic.
  const response = `550 5.4.7 <${event.recipient}>: inbound route ${giveUp}; last: ${v.response}`;
  await record(deps, event, [{ ...base, state: "bounced", event: "bounced", response }], []);
  completed().add(1, { outcome: "bounced", route: "inbound" });
}

/** The outcome in one statement, then the lease given back (an attempt that dies keeps it only until it lapses). */
async function record(deps: InboundDeps, event: DeliveryInbound, changes: Change[], events: Announcement[]) {
  const pending = await transitionAndAnnounce(deps.pool, deps.outbox, changes, events);
  await deps.pool.query("UPDATE deliveries SET leased_until = NULL WHERE id = $1", [event.deliveryId]);
  deps.outbox.announce(pending);
}

async function post(route: InboundRoute, body: string, deps: InboundDeps): Promise<EndpointAnswer> {
  try {
    const res = await fetch(route.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Correo-Inbound/1",
        [SIGNATURE_HEADER]: signatureHeader(route.secret, body, deps.clock.now()),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(deps.postTimeoutMs),
    });
    const text = await res.text().catch(() => "");
    return { kind: "status", status: res.status, body: text };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { kind: "failed", error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}
