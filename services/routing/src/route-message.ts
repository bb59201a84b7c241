import { randomUUID } from "node:crypto";
import { withTransaction, type Pool, type PoolClient, type Queryable } from "@correo/db";
import type { AnyEvent, MessageSubmitted } from "@correo/contracts";
import { addressKey, parseAddress, resolveHostedDomain, uncachedDirectory, type DirectoryLookups, type RecipientStatus } from "@correo/directory";
import { describeRoute, type Route } from "@correo/mx";
import { parseFeedbackReport, recordComplaint } from "@correo/suppression";
import {
  getBlob,
  toDelivery,
  transitionAndAnnounce,
  type Announcement,
  type Change,
  type Clock,
  type Delivery,
  type DeliveryRow,
  type Outbox,
  type PendingEvent,
} from "@correo/spool";
import { afterFailure, type BackoffPolicy, type Random } from "@correo/queue";
import type { SrsOptions } from "@correo/srs";
import { atZero, counter, metricNames, type Logger } from "@correo/telemetry";
import { decideRoute, replyText, type RouteVerdict } from "./decide.js";
import { defaultLimits, expandAlias, type Expansion, type ExpansionLimits } from "./expand.js";
import { forwardSender } from "./forward-sender.js";

export interface RouterDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  /** How long the next stage has before the re-drive sweeper routes the delivery again. */
  redriveAfterMs: number;
  /** The next hop of a remote domain (transport override, MX, implicit MX), through @correo/mx. */
  route(domain: string): Promise<Route>;
  /**
   * Retry policy of recipients deferred by a temporary DNS failure: the relay's back-off
   * (RELAY_MIN_BACKOFF doubling to RELAY_MAX_BACKOFF, jittered) until RELAY_MAX_LIFETIME.
   */
  deferral: BackoffPolicy & { maxLifetimeMs: number };
  /** Jitter of those retries (Math.random when not given). */
  random?: Random;
  limits?: ExpansionLimits;
  /** POSTMASTER_ADDRESS: where postmaster mail goes (RFC 5321 §4.5.1); unset: postmaster@ the first hosted domain. */
  postmaster?: string | undefined;
  /** The directory's answers (DirectoryCache in the service); unset: the database every time. */
  directory?: Pick<DirectoryLookups, "resolveRecipient"> | undefined;
  /** SRS_SECRETS / SRS_DOMAIN: the envelope sender of deliveries an alias forwards outside; undefined: SRS off. */
  srs?: SrsOptions | undefined;
  /** COMPLAINTS_ADDRESS: where ARF feedback reports arrive (issue 15); unset, they are ordinary mail. */
  complaintsAddress?: string | undefined;
  log: Logger;
}

const routed = () => counter(metricNames.deliveriesRouted, "Routing decisions, by route");
const srsRewrites = () => counter(metricNames.srsRewrites, "Forwarded deliveries given an SRS envelope sender");
const complaints = () => counter(metricNames.complaintsReceived, "ARF feedback reports read at COMPLAINTS_ADDRESS, by outcome (recorded, unmatched)");

/** Routing decisions at 0 for every verdict (see atZero). */
export function routingMetricsAtZero(): void {
  const kinds: (RouteVerdict["kind"] | "test")[] = ["local", "remote", "expand", "bounce", "inbound", "test"];
  atZero(routed(), kinds.map((route) => ({ route })));
  atZero(srsRewrites());
  atZero(complaints(), [{ outcome: "recorded" }, { outcome: "unmatched" }]);
}

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

/** What routing reads and resolves before it takes a connection for the transaction. */
interface Plan {
  acceptedAt: Date;
  /** messages.quarantine: the MX filed the message as junk; local recipients get it in Junk. */
  quarantine: boolean;
  /** The message's envelope sender ("" for <>). */
  sender: string;
  /** Every recipient the message already has (keys), for alias de-duplication. */
  claimed: Set<string>;
  /** The directory's answer per recipient address (as written). */
  statuses: Map<string, RecipientStatus>;
  expansions: Map<string, Expansion>;
  /** The next hop per remote domain. */
  routes: Map<string, Route>;
  /** Whether the envelope sender's domain is hosted here; asked only when an alias leads outside. */
  senderHosted?: boolean;
}

const keyOf = (address: string) => addressKey(address) ?? address.toLowerCase();

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
 *
 * Every directory and DNS question is asked before the transaction, on the pool, one at
 * a time: a handler never asks the pool for a second connection while it holds one
 * (with every consumer's prefetch in flight, that starves the pool). The transaction
 * is then one lock-and-read, the alias children's rows, and one statement for every
 * state change, timeline event and outbox row.
 */
export async function routeMessage(deps: RouterDeps, event: MessageSubmitted): Promise<void> {
  const now = deps.clock.now();
  const ids = event.deliveries.map((d) => d.deliveryId);
  const read = await readMessage(deps.pool, event.messageId, ids);
  if (!read) {
    deps.log.warn({ messageId: event.messageId }, "message.submitted for a message no longer in the spool; ignored");
    return;
  }
  const plan: Plan = {
    acceptedAt: read.acceptedAt, quarantine: read.quarantine, claimed: read.claimed, statuses: new Map(), expansions: new Map(), routes: new Map(), sender: event.envelopeFrom,
  };
  let wanted: Delivery[] = read.deliveries.filter(routable);
  if (read.test) return deps.outbox.announce(await deliverInTestMode(deps, wanted, now));
  await readComplaint(deps, event, wanted, now);
  // A delivery the locked read finds in a state the first read did not (another copy
  // moved it meanwhile) may need answers the plan lacks: look them up and try again.
  for (let pass = 0; ; pass++) {
    await complete(deps, plan, wanted);
    if (pass === 0 && wanted.every((d) => !needsTransaction(plan, d))) {
      // The common case (no alias to expand, no DNS deferral to count): one statement on
      // the pool, each change guarded by the state read above. A copy that routed the same
      // event meanwhile wins; the events this one writes anyway are idempotent downstream.
      const work = wanted.map((delivery) => ({ delivery }));
      const pending = await routeWork(deps, event, plan, now, work, { db: deps.pool, guard: true });
      // Committed, outbox rows included: the broker message may be acked without waiting for confirms.
      return deps.outbox.announce(pending);
    }
    const result = await withTransaction(deps.pool, (db) => routeLocked(deps, event, plan, now, db));
    if (result.kind === "done") return deps.outbox.announce(result.pending);
    if (pass >= 2) throw new Error(`routing of message ${event.messageId} kept finding deliveries change under it`);
    wanted = result.missing;
  }
}

/** The deliveries of the event, when the message was accepted, and every recipient it has: one read. */
async function readMessage(db: Queryable, messageId: string, ids: string[]) {
  const { rows } = await db.query<DeliveryRow & { accepted_at: Date; quarantine: boolean; test: boolean; all_recipients: string[] }>({
    // Named: prepared once per connection rather than parsed and planned per message.
    name: "routing.read-message",
    text: `SELECT d.*, m.created_at AS accepted_at, m.quarantine, m.test,
            (SELECT array_agg(x.recipient) FROM deliveries x WHERE x.message_id = m.id) AS all_recipients
       FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id AND d.id = ANY($2::uuid[])
      WHERE m.id = $1
      ORDER BY d.recipient`,
    values: [messageId, ids],
  });
  const first = rows[0];
  if (!first) return undefined;
  return {
    acceptedAt: first.accepted_at,
    quarantine: first.quarantine,
    test: first.test,
    claimed: new Set((first.all_recipients ?? []).map(keyOf)),
    deliveries: rows.filter((r) => r.id !== null).map(toDelivery),
  };
}

/** Adds to the plan what routing `deliveries` needs: statuses, alias expansions, routes. */
async function complete(deps: RouterDeps, plan: Plan, deliveries: Delivery[]): Promise<void> {
  const statusOf = async (address: string) => {
    let s = plan.statuses.get(address);
    // The SMTP listeners' answer: postmaster (RFC 5321 §4.5.1) is an alias of the configured one.
    if (!s) plan.statuses.set(address, (s = await (deps.directory ?? uncachedDirectory(deps.pool)).resolveRecipient(address, { postmaster: deps.postmaster })));
    return s;
  };
  const domains = new Set<string>();
  let forwardsOutside = false;
  for (const d of deliveries) {
    const status = await statusOf(d.recipient);
    // A routed delivery only gets its event again: its route was chosen before.
    if (status.kind === "not-hosted" && d.state !== "routed") domains.add(status.domain);
    if (status.kind !== "alias" || plan.expansions.has(d.recipient)) continue;
    const expansion = await expandAlias({ address: d.recipient, targets: status.targets }, statusOf, deps.limits ?? defaultLimits);
    plan.expansions.set(d.recipient, expansion);
    for (const leaf of expansion.leaves) {
      if (leaf.status.kind !== "not-hosted") continue;
      domains.add(leaf.status.domain);
      forwardsOutside = true;
    }
  }
  // SRS needs to know whether we are the sender's host already (then no rewrite).
  if (forwardsOutside && deps.srs && plan.senderHosted === undefined && plan.sender !== "") {
    const domain = parseAddress(plan.sender)?.domain;
    plan.senderHosted = domain !== undefined && (await resolveHostedDomain(deps.pool, domain)) !== undefined;
  }
  // DNS before the transaction, so that no row stays locked while a resolver answers.
  const lookups = [...domains].filter((domain) => !plan.routes.has(domain));
  const answers = await Promise.all(lookups.map((domain) => deps.route(domain)));
  lookups.forEach((domain, i) => plan.routes.set(domain, answers[i]!));
}

type Locked = { kind: "done"; pending: PendingEvent[] } | { kind: "missing"; missing: Delivery[] };

async function routeLocked(deps: RouterDeps, event: MessageSubmitted, plan: Plan, now: Date, db: PoolClient): Promise<Locked> {
  // Lock the rows so that two routing copies handling the same event do not interleave.
  const { rows } = await db.query<DeliveryRow>("SELECT * FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY recipient FOR UPDATE", [
    event.deliveries.map((d) => d.deliveryId),
  ]);
  const work: Work[] = rows.map(toDelivery).filter(routable).map((delivery) => ({ delivery }));
  const missing = work.map((w) => w.delivery).filter((d) => !isPlanned(plan, d));
  if (missing.length > 0) return { kind: "missing", missing };
  return { kind: "done", pending: await routeWork(deps, event, plan, now, work, { db, guard: false }) };
}

/** What one routing pass collects from its decisions, to write them in one statement. */
interface Pass {
  deps: RouterDeps;
  event: MessageSubmitted;
  plan: Plan;
  now: Date;
  nextAttemptAt: Date;
  db: Queryable;
  /** No lock held: each change names the state it was decided from, each event the deliveries it needs. */
  guard: boolean;
  /** The deliveries to decide; an alias's children are appended as they are added. */
  work: Work[];
  /** Recipient keys the message has, those this pass adds included. */
  claimed: Set<string>;
  changes: Change[];
  events: Announcement[];
  /** Remote deliveries per destination domain and envelope sender (a forwarded delivery's SRS one, else the message's). */
  remote: Map<string, { domain: string; envelopeFrom: string; group: { deliveryId: string; recipient: string }[] }>;
}

type ChangeOf = Omit<Change, "deliveryId" | "at">;
type Verdict<K extends RouteVerdict["kind"]> = Extract<RouteVerdict, { kind: K }>;

/**
 * Decides every delivery of `work` from the plan and writes the outcome in one statement.
 * `db` is the transaction's client when an alias is expanded (its children's rows) or a
 * DNS deferral counted; otherwise the pool, and then every change is guarded by the state
 * the plan was made from.
 */
async function routeWork(
  deps: RouterDeps,
  event: MessageSubmitted,
  plan: Plan,
  now: Date,
  work: Work[],
  on: { db: Queryable; guard: boolean },
): Promise<PendingEvent[]> {
  const nextAttemptAt = new Date(now.getTime() + deps.redriveAfterMs);
  const pass: Pass = {
    deps, event, plan, now, nextAttemptAt, db: on.db, guard: on.guard, work,
    claimed: new Set(plan.claimed), changes: [], events: [], remote: new Map(),
  };
  const decisions: Record<string, string> = {};
  for (let i = 0; i < work.length; i++) {
    const { delivery: d, known } = work[i]!;
    const verdict = decideRoute({ recipient: d.recipient, status: known ?? plan.statuses.get(d.recipient)!, quarantine: plan.quarantine });
    let outcome: string;
    switch (verdict.kind) {
      case "local":
        outcome = routeLocal(pass, d, verdict);
        break;
      case "inbound":
        outcome = routeInbound(pass, d, verdict);
        break;
      case "remote": {
        // A routed delivery only gets its event again: its route was chosen before.
        const route = d.state === "routed" ? undefined : plan.routes.get(verdict.domain)!;
        if (route?.kind === "defer") {
          const deferral = await deferRecipient(on.db, deps, d, route.reply, plan.acceptedAt, now);
          change(pass, d, deferral.change);
          outcome = deferral.outcome;
        } else outcome = routeRemote(pass, d, verdict, route);
        break;
      }
      case "expand": {
        const expansion = plan.expansions.get(d.recipient)!;
        outcome = expanded(pass, d, verdict, expansion, await addAliasTargets(pass, d, expansion));
        break;
      }
      case "bounce":
        outcome = replyText(verdict);
        change(pass, d, { state: "bounced", event: "bounced", response: outcome });
        break;
    }
    routed().add(1, { route: verdict.kind });
    decisions[d.recipient] = outcome;
  }
  announceRemote(pass);
  const pending = await transitionAndAnnounce(on.db, deps.outbox, pass.changes, pass.events);
  if (Object.keys(decisions).length > 0) deps.log.info({ messageId: event.messageId, decisions }, "routed");
  return pending;
}

function change(pass: Pass, d: Delivery, c: ChangeOf): void {
  pass.changes.push({ deliveryId: d.id, at: pass.now, ...c, ...(pass.guard ? { expectedState: d.state } : {}) });
}

/** Guarded (no lock held), an event announces only deliveries this pass still owns. */
function announce(pass: Pass, ids: string[], event: AnyEvent): void {
  pass.events.push(pass.guard ? { event, guard: ids } : { event });
}

/** A hosted mailbox: routed to it and announced to the mailbox service, or expired past the lifetime. */
function routeLocal(pass: Pass, d: Delivery, verdict: Verdict<"local">): string {
  // Re-driven for longer than the lifetime (the mailbox kept deferring, e.g. a
  // full mailbox answering 452 4.2.2): it expires with its last reply, as the relay's do.
  if (d.state === "routed" && pass.now.getTime() - pass.plan.acceptedAt.getTime() >= pass.deps.deferral.maxLifetimeMs) {
    const response = `5.4.7 delivery time expired; last: ${d.lastResponse ?? "no reply"}`;
    change(pass, d, { state: "expired", event: "expired", response });
    return response;
  }
  if (d.state !== "routed") {
    change(pass, d, {
      state: "routed",
      event: "routed",
      route: "local",
      nextAttemptAt: pass.nextAttemptAt,
      response: `local mailbox ${verdict.mailbox} of ${verdict.account} (account ${verdict.accountId})`,
    });
  }
  const { event } = pass;
  announce(pass, [d.id], {
    type: "delivery.local",
    version: 1,
    messageId: event.messageId,
    deliveryId: d.id,
    blobId: event.blobId,
    recipient: d.recipient,
    accountId: verdict.accountId,
    mailbox: verdict.mailbox,
  });
  return verdict.kind;
}

/**
 * An inbound route: routed `inbound` and announced to relay-queue, which POSTs it and
 * owns its retries from then on (a routed delivery only gets its event again).
 */
function routeInbound(pass: Pass, d: Delivery, verdict: Verdict<"inbound">): string {
  if (d.state !== "routed") {
    change(pass, d, {
      state: "routed",
      event: "routed",
      route: "inbound",
      nextAttemptAt: pass.nextAttemptAt,
      response: `inbound route ${verdict.pattern} (${verdict.routeId})`,
    });
  }
  const { event } = pass;
  announce(pass, [d.id], {
    type: "delivery.inbound",
    version: 1,
    messageId: event.messageId,
    deliveryId: d.id,
    blobId: event.blobId,
    envelopeFrom: event.envelopeFrom,
    recipient: d.recipient,
    routeId: verdict.routeId,
  });
  return verdict.kind;
}

/**
 * A remote domain whose next hop answered (`route`; none for a delivery routed before):
 * bounced when the domain takes no mail, else routed and grouped with its domain.
 */
function routeRemote(pass: Pass, d: Delivery, verdict: Verdict<"remote">, route: Route | undefined): string {
  // The next hop is resolved now, so that a domain that takes no mail bounces at
  // once and a DNS outage defers here; the relay resolves again at each attempt.
  if (route?.kind === "bounce") {
    change(pass, d, { state: "bounced", event: "bounced", response: route.reply });
    return route.reply;
  }
  if (route) {
    change(pass, d, {
      state: "routed",
      event: "routed",
      route: "remote",
      nextAttemptAt: pass.nextAttemptAt,
      response: `remote domain ${verdict.domain} via ${describeRoute(route)}`,
    });
  }
  const envelopeFrom = d.envelopeFrom ?? pass.event.envelopeFrom;
  const key = `${verdict.domain} ${envelopeFrom}`;
  const entry = pass.remote.get(key) ?? { domain: verdict.domain, envelopeFrom, group: [] };
  entry.group.push({ deliveryId: d.id, recipient: d.recipient });
  pass.remote.set(key, entry);
  return verdict.kind;
}

/** Adds a delivery for each final recipient of the alias the message does not have yet; returns their addresses. */
async function addAliasTargets(pass: Pass, d: Delivery, expansion: Expansion): Promise<string[]> {
  const added: string[] = [];
  for (const leaf of expansion.leaves) {
    const key = keyOf(leaf.address);
    if (pass.claimed.has(key)) continue; // already a recipient of this message: one copy
    pass.claimed.add(key);
    const sender =
      leaf.status.kind === "not-hosted"
        ? forwardSender({ sender: pass.event.envelopeFrom, senderHosted: pass.plan.senderHosted ?? false, srs: pass.deps.srs, now: pass.now })
        : undefined;
    const envelopeFrom = sender?.kind === "rewrite" ? sender.envelopeFrom : null;
    const child = await addChildDelivery(pass.db, d, leaf.address, pass.now, pass.nextAttemptAt, envelopeFrom);
    if (!child) continue;
    if (envelopeFrom) srsRewrites().add(1);
    added.push(leaf.address);
    pass.work.push({ delivery: child, known: leaf.status });
  }
  return added;
}

/** The alias's own delivery once expanded: delivered ("expanded"), or bounced when it leads nowhere. */
function expanded(pass: Pass, d: Delivery, verdict: Verdict<"expand">, expansion: Expansion, added: string[]): string {
  const via = verdict.catchAll ? `catch-all of ${verdict.alias.slice(1)}` : `alias ${verdict.alias}`;
  const notes = expansion.problems.length > 0 ? `; ${expansion.problems.join("; ")}` : "";
  if (expansion.leaves.length === 0) {
    // RFC 3463 X.4.6: routing loop detected (or nothing left to deliver to).
    const text = `<${d.recipient}>: ${via} leads to no recipient${notes}`;
    const response = replyText({ code: 550, enhanced: "5.4.6", text });
    change(pass, d, { state: "bounced", event: "bounced", response });
    return response;
  }
  const list = added.length > 0 ? added.join(", ") : "recipients already in this message";
  const response = `250 2.1.5 expanded by ${via} to ${list}${notes}`;
  change(pass, d, { state: "delivered", event: "delivered", response });
  return `expanded to ${added.length}`;
}

/** Remote recipients of one destination and one envelope sender travel together (one SMTP transaction). */
function announceRemote(pass: Pass): void {
  const { event } = pass;
  for (const { domain, envelopeFrom, group } of pass.remote.values()) {
    announce(pass, group.map((g) => g.deliveryId), {
      type: "delivery.remote",
      version: 1,
      messageId: event.messageId,
      blobId: event.blobId,
      envelopeFrom,
      domain,
      deliveries: group,
    });
  }
}

/** Whether routing `d` writes more than its own row: an alias's children, or a DNS deferral's count. */
function needsTransaction(plan: Plan, d: Delivery): boolean {
  const status = plan.statuses.get(d.recipient);
  if (status?.kind === "alias") return true;
  return status?.kind === "not-hosted" && d.state !== "routed" && plan.routes.get(status.domain)?.kind === "defer";
}

/** Whether the plan holds every answer routing `d` needs. */
function isPlanned(plan: Plan, d: Delivery): boolean {
  const status = plan.statuses.get(d.recipient);
  if (!status) return false;
  if (status.kind === "alias") return plan.expansions.has(d.recipient);
  if (status.kind === "not-hosted" && d.state !== "routed") return plan.routes.has(status.domain);
  return true;
}

/**
 * A DNS failure at routing time: the recipient is `deferred` with no route yet, and
 * routing's re-drive routes it again when its next attempt time comes.
 */
async function deferRecipient(
  db: Queryable,
  deps: RouterDeps,
  d: Delivery,
  reply: string,
  acceptedAt: Date,
  now: Date,
): Promise<{ change: ChangeOf; outcome: string }> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM delivery_events WHERE delivery_id = $1 AND event = 'deferred'",
    [d.id],
  );
  const lifetimeEnd = new Date(acceptedAt.getTime() + deps.deferral.maxLifetimeMs);
  const next = afterFailure(now, (rows[0]?.n ?? 0) + 1, lifetimeEnd, deps.deferral, deps.random ?? Math.random, reply);
  if (next.kind === "expire") {
    const response = `5.4.7 delivery time expired while routing; last: ${reply}`;
    return { change: { state: "expired", event: "expired", response }, outcome: response };
  }
  return {
    change: { state: "deferred", event: "deferred", nextAttemptAt: next.at, response: reply },
    outcome: `deferred until ${next.at.toISOString()}: ${reply}`,
  };
}

/**
 * A delivery of the same message for one final recipient of an alias. It inherits the
 * alias's DSN request, and its ORCPT names the address the sender used (RFC 3461 §4.2).
 */
async function addChildDelivery(
  db: Queryable,
  parent: Delivery,
  recipient: string,
  now: Date,
  nextAttemptAt: Date,
  envelopeFrom: string | null,
): Promise<Delivery | undefined> {
  const id = randomUUID();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO deliveries (id, message_id, recipient, state, next_attempt_at, dsn_notify, original_recipient, created_at, updated_at, envelope_from)
     SELECT $1, p.message_id, $3, 'queued', $4, p.dsn_notify, coalesce(p.original_recipient, 'rfc822;' || p.recipient), $5, $5, $6
       FROM deliveries p WHERE p.id = $2
     ON CONFLICT (message_id, recipient) DO NOTHING RETURNING id`,
    [id, parent.id, recipient, nextAttemptAt, now, envelopeFrom],
  );
  if (!rows[0]) return undefined;
  const via = envelopeFrom ? `; forwarded with envelope sender <${envelopeFrom}> (SRS)` : "";
  await db.query("INSERT INTO delivery_events (delivery_id, at, event, detail) VALUES ($1, $2, 'accepted', $3)", [
    id,
    now,
    `expanded from <${parent.recipient}>${via}`,
  ]);
  return { id, messageId: parent.messageId, recipient, state: "queued", route: null, attempts: 0, nextAttemptAt, lastResponse: null, envelopeFrom };
}

/**
 * Test mode (issue 15 item 5): a message sent with a test-mode API key is routed here and
 * no further. Each delivery ends `delivered`, recorded as if sent, with a detail that says
 * why; no event goes to the relay or the mailbox, so nothing leaves the system (no SMTP
 * connection, no mailbox append). Routing is the one place every message passes and the
 * last before any side effect. One statement, each change guarded by the state read.
 */
async function deliverInTestMode(deps: RouterDeps, wanted: Delivery[], now: Date): Promise<PendingEvent[]> {
  const response = "250 2.0.0 test mode: accepted and recorded as delivered, not sent (API key in test mode)";
  const changes: Change[] = wanted.map((d) => ({ deliveryId: d.id, at: now, state: "delivered", event: "delivered", response, expectedState: d.state }));
  for (const _ of changes) routed().add(1, { route: "test" });
  const pending = await transitionAndAnnounce(deps.pool, deps.outbox, changes, []);
  if (changes.length > 0) deps.log.info({ messageId: wanted[0]!.messageId, recipients: changes.length }, "test mode: recorded as delivered, not sent");
  return pending;
}

/**
 * A message to COMPLAINTS_ADDRESS is read as an ARF report (RFC 5965) before it is routed
 * on (to that address's mailbox, which keeps the reports): its complaint is recorded on
 * the original delivery's timeline ('complained') and its recipient suppressed, in one
 * statement. Routing does it because it is the first stage after the MX's 250 that sees
 * each recipient, once, with the spool at hand, and decides no matter where (or whether)
 * the address has a mailbox; the MX answers before any parsing. Idempotent (one
 * 'complained' row per delivery, one entry per address), and only for a queued delivery,
 * so a re-drive does not parse again. A report that is not one, or matches nothing, is logged.
 */
async function readComplaint(deps: RouterDeps, event: MessageSubmitted, wanted: Delivery[], now: Date): Promise<void> {
  const target = deps.complaintsAddress;
  if (!target || !wanted.some((d) => d.state === "queued" && keyOf(d.recipient) === target)) return;
  const raw = await getBlob(deps.pool, event.blobId);
  if (!raw) return;
  const parsed = await parseFeedbackReport(raw);
  if (parsed.kind !== "report") {
    deps.log.warn({ messageId: event.messageId, why: parsed.why }, "mail to the complaints address is not an ARF report; routed as ordinary mail");
    return;
  }
  const outcome = await recordComplaint(deps.pool, parsed.report, now);
  if (outcome.kind === "recorded") {
    complaints().add(1, { outcome: "recorded" });
    deps.log.info({ report: event.messageId, messageId: outcome.messageId, recipient: outcome.recipient, domain: outcome.domain, listed: outcome.listed }, "complaint recorded");
  } else {
    complaints().add(1, { outcome: "unmatched" });
    deps.log.warn({ report: event.messageId, why: outcome.why }, "complaint matches no delivery of this system");
  }
}
