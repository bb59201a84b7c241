import { randomUUID } from "node:crypto";
import { withTransaction, type Pool, type PoolClient } from "@correo/db";
import type { AnyEvent, MessageSubmitted } from "@correo/contracts";
import { addressKey, parseAddress, recipientStatus, resolveHostedDomain, type RecipientStatus } from "@correo/directory";
import { describeRoute, type Route } from "@correo/mx";
import { loadDeliveries, loadMessage, transition, type Clock, type Delivery, type Outbox, type PendingEvent } from "@correo/spool";
import { counter, metricNames, type Logger } from "@correo/telemetry";
import { decideRoute, replyText } from "./decide.js";
import { afterDeferral, type DeferralPolicy } from "./deferral.js";
import { defaultLimits, expandAlias, type ExpansionLimits } from "./expand.js";
import { lookupRecipient } from "./lookup.js";

export interface RouterDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  /** How long the next stage has before the re-drive sweeper routes the delivery again. */
  redriveAfterMs: number;
  /** The next hop of a remote domain (transport override, MX, implicit MX), through @correo/mx. */
  route(domain: string): Promise<Route>;
  /** Retry policy of recipients deferred by a temporary DNS failure. */
  deferral: DeferralPolicy;
  limits?: ExpansionLimits;
  log: Logger;
}

const routed = () => counter(metricNames.deliveriesRouted, "Routing decisions, by route");

/** A delivery this pass routes, with what is already known about its recipient. */
interface Work {
  delivery: Delivery;
  known?: RecipientStatus;
}

/**
 * Routing owns a delivery while it is queued, routed (until the next stage takes it),
 * or deferred before any route was chosen (a DNS failure at routing time). Deferred
 * remote deliveries belong to the relay queue; final ones never move.
 */
export function routable(d: Delivery): boolean {
  return d.state === "queued" || d.state === "routed" || (d.state === "deferred" && d.route === null);
}

/**
 * Routes every recipient of a submitted message. Idempotent: a delivery already
 * final, or deferred by the relay queue, is left alone; one still `routed` gets its
 * event again, because the next stage may never have seen it.
 *
 * Aliases (and catch-alls) are expanded here: the alias's own delivery ends as
 * `delivered` ("expanded", RFC 3464 §2.3.3) and each final recipient gets a delivery of
 * its own in the same message, because a delivery lands in at most one mailbox (the
 * mailbox's idempotency key) and the relay sends RCPT TO its delivery's recipient. A
 * recipient that already has a delivery in the message is not added twice.
 */
export async function routeMessage(deps: RouterDeps, event: MessageSubmitted): Promise<void> {
  const now = deps.clock.now();
  const nextAttemptAt = new Date(now.getTime() + deps.redriveAfterMs);
  const ids = event.deliveries.map((d) => d.deliveryId);

  // DNS before the transaction, so that no row stays locked while a resolver answers.
  const routes = new Map<string, Promise<Route>>();
  const routeOf = (domain: string) => {
    let r = routes.get(domain);
    if (!r) routes.set(domain, (r = deps.route(domain)));
    return r;
  };
  for (const d of await loadDeliveries(deps.pool, ids)) {
    const domain = parseAddress(d.recipient)?.domain;
    if (d.state !== "routed" && routable(d) && domain && !(await resolveHostedDomain(deps.pool, domain))) void routeOf(domain);
  }
  await Promise.allSettled(routes.values());

  const pending = await withTransaction(deps.pool, async (db) => {
    // Lock the rows so that two routing copies handling the same event do not interleave.
    await db.query("SELECT 1 FROM deliveries WHERE id = ANY($1::uuid[]) FOR UPDATE", [ids]);
    const message = await loadMessage(db, event.messageId);
    if (!message) {
      deps.log.warn({ messageId: event.messageId }, "message.submitted for a message no longer in the spool; ignored");
      return [];
    }
    const { rows: all } = await db.query<{ recipient: string }>("SELECT recipient FROM deliveries WHERE message_id = $1", [message.id]);
    const claimed = new Set(all.map((r) => addressKey(r.recipient) ?? r.recipient.toLowerCase()));

    const events: AnyEvent[] = [];
    const decisions: Record<string, string> = {};
    const remote = new Map<string, { deliveryId: string; recipient: string }[]>();
    const work: Work[] = (await loadDeliveries(db, ids)).filter(routable).map((delivery) => ({ delivery }));

    for (let i = 0; i < work.length; i++) {
      const { delivery: d, known } = work[i]!;
      const verdict = decideRoute(await lookupRecipient(db, d.recipient, known));
      let outcome: string = verdict.kind;
      switch (verdict.kind) {
        case "local":
          // Re-driven for longer than the lifetime (the mailbox kept deferring, e.g. a
          // full mailbox answering 452 4.2.2): it expires with its last reply, as the relay's do.
          if (d.state === "routed" && now.getTime() - message.createdAt.getTime() >= deps.deferral.maxLifetimeMs) {
            const response = `5.4.7 delivery time expired; last: ${d.lastResponse ?? "no reply"}`;
            await transition(db, d.id, { state: "expired", event: "expired", at: now, response });
            outcome = response;
            break;
          }
          if (d.state !== "routed") {
            await transition(db, d.id, {
              state: "routed",
              event: "routed",
              route: "local",
              at: now,
              nextAttemptAt,
              response: `local mailbox ${verdict.mailbox} of ${verdict.account} (account ${verdict.accountId})`,
            });
          }
          events.push({
            type: "delivery.local",
            version: 1,
            messageId: event.messageId,
            deliveryId: d.id,
            blobId: event.blobId,
            recipient: d.recipient,
            accountId: verdict.accountId,
            mailbox: verdict.mailbox,
          });
          break;
        case "remote": {
          if (d.state !== "routed") {
            // The next hop is resolved now, so that a domain that takes no mail bounces at
            // once and a DNS outage defers here; the relay resolves again at each attempt.
            const route = await routeOf(verdict.domain);
            if (route.kind === "bounce") {
              await transition(db, d.id, { state: "bounced", event: "bounced", at: now, response: route.reply });
              outcome = route.reply;
              break;
            }
            if (route.kind === "defer") {
              outcome = await deferRecipient(db, deps, d, route.reply, message.createdAt, now);
              break;
            }
            await transition(db, d.id, {
              state: "routed",
              event: "routed",
              route: "remote",
              at: now,
              nextAttemptAt,
              response: `remote domain ${verdict.domain} via ${describeRoute(route)}`,
            });
          }
          remote.set(verdict.domain, [...(remote.get(verdict.domain) ?? []), { deliveryId: d.id, recipient: d.recipient }]);
          break;
        }
        case "expand": {
          const lookup = (address: string) => recipientStatus(db, address);
          const expansion = await expandAlias({ address: d.recipient, targets: verdict.targets }, lookup, deps.limits ?? defaultLimits);
          const added: string[] = [];
          for (const leaf of expansion.leaves) {
            const key = addressKey(leaf.address) ?? leaf.address.toLowerCase();
            if (claimed.has(key)) continue; // already a recipient of this message: one copy
            claimed.add(key);
            const child = await addChildDelivery(db, d, leaf.address, now, nextAttemptAt);
            if (!child) continue;
            added.push(leaf.address);
            work.push({ delivery: child, known: leaf.status });
          }
          const via = verdict.catchAll ? `catch-all of ${verdict.alias.slice(1)}` : `alias ${verdict.alias}`;
          const notes = expansion.problems.length > 0 ? `; ${expansion.problems.join("; ")}` : "";
          if (expansion.leaves.length === 0) {
            // RFC 3463 X.4.6: routing loop detected (or nothing left to deliver to).
            const text = `<${d.recipient}>: ${via} leads to no recipient${notes}`;
            const response = replyText({ code: 550, enhanced: "5.4.6", text });
            await transition(db, d.id, { state: "bounced", event: "bounced", at: now, response });
            outcome = response;
          } else {
            const list = added.length > 0 ? added.join(", ") : "recipients already in this message";
            const response = `250 2.1.5 expanded by ${via} to ${list}${notes}`;
            await transition(db, d.id, { state: "delivered", event: "delivered", at: now, response });
            outcome = `expanded to ${added.length}`;
          }
          break;
        }
        case "bounce":
          await transition(db, d.id, { state: "bounced", event: "bounced", at: now, response: replyText(verdict) });
          outcome = replyText(verdict);
          break;
      }
      routed().add(1, { route: verdict.kind });
      decisions[d.recipient] = outcome;
    }
    // Remote recipients of one destination travel together (one SMTP transaction).
    for (const [domain, group] of remote) {
      events.push({
        type: "delivery.remote",
        version: 1,
        messageId: event.messageId,
        blobId: event.blobId,
        envelopeFrom: event.envelopeFrom,
        domain,
        deliveries: group,
      });
    }
    const out: PendingEvent[] = [];
    for (const e of events) out.push(await deps.outbox.enqueue(db, e));
    if (Object.keys(decisions).length > 0) deps.log.info({ messageId: event.messageId, decisions }, "routed");
    return out;
  });
  // Committed, outbox rows included: the broker message may be acked without waiting for confirms.
  deps.outbox.announce(pending);
}

/**
 * A DNS failure at routing time: the recipient is `deferred` with no route yet, and
 * routing's re-drive routes it again when its next attempt time comes.
 */
async function deferRecipient(db: PoolClient, deps: RouterDeps, d: Delivery, reply: string, acceptedAt: Date, now: Date): Promise<string> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM delivery_events WHERE delivery_id = $1 AND event = 'deferred'",
    [d.id],
  );
  const next = afterDeferral(now, acceptedAt, rows[0]?.n ?? 0, deps.deferral);
  if (next.kind === "expire") {
    const response = `5.4.7 delivery time expired while routing; last: ${reply}`;
    await transition(db, d.id, { state: "expired", event: "expired", at: now, response });
    return response;
  }
  await transition(db, d.id, { state: "deferred", event: "deferred", at: now, nextAttemptAt: next.at, response: reply });
  return `deferred until ${next.at.toISOString()}: ${reply}`;
}

/**
 * A delivery of the same message for one final recipient of an alias. It inherits the
 * alias's DSN request, and its ORCPT names the address the sender used (RFC 3461 §4.2).
 */
async function addChildDelivery(db: PoolClient, parent: Delivery, recipient: string, now: Date, nextAttemptAt: Date): Promise<Delivery | undefined> {
  const id = randomUUID();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO deliveries (id, message_id, recipient, state, next_attempt_at, dsn_notify, original_recipient, created_at, updated_at)
     SELECT $1, p.message_id, $3, 'queued', $4, p.dsn_notify, coalesce(p.original_recipient, 'rfc822;' || p.recipient), $5, $5
       FROM deliveries p WHERE p.id = $2
     ON CONFLICT (message_id, recipient) DO NOTHING RETURNING id`,
    [id, parent.id, recipient, nextAttemptAt, now],
  );
  if (!rows[0]) return undefined;
  await db.query("INSERT INTO delivery_events (delivery_id, at, event, detail) VALUES ($1, $2, 'accepted', $3)", [
    id,
    now,
    `expanded from <${parent.recipient}>`,
  ]);
  return { id, messageId: parent.messageId, recipient, state: "queued", route: null, attempts: 0, nextAttemptAt, lastResponse: null };
}
