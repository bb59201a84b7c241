import { withTransaction, type Pool, type Queryable } from "@correo/db";
import { acceptInTransaction, type Clock, type Outbox, type Submission } from "@correo/spool";
import { atZero, counter, metricNames, type Logger } from "@correo/telemetry";
import { claimIdempotent, decideIdempotency, findIdempotent, recordIdempotent, type StoredResponse } from "./idempotency.js";

export interface HttpAcceptDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  redriveAfterMs: number;
  log: Logger;
}

export interface HttpAcceptRequest {
  apiKeyId: number;
  idempotency?: { key: string; requestHash: string };
  submission: Submission;
  tags: string[];
  metadata: Record<string, string>;
  /** The 202 body for the accepted message. */
  respond(accepted: { messageId: string; deliveries: { deliveryId: string; recipient: string }[]; suppressed: string[] }): unknown;
}

export type HttpAcceptResult =
  | { kind: "accepted"; response: StoredResponse }
  | { kind: "replay"; response: StoredResponse }
  | { kind: "mismatch" }
  | { kind: "failed" };

const accepted = () => counter(metricNames.messagesAccepted, "Messages accepted, by way in");

/** Messages accepted over HTTP, at 0 from the start (see atZero). */
export function httpAcceptMetricsAtZero(): void {
  atZero(accepted(), [{ way: "http" }]);
}

class LostIdempotencyRace extends Error {}

/**
 * The durable accept of the HTTP API: the message (spool's accept transaction), its
 * tags and metadata and the Idempotency-Key's first response commit together, so a
 * retried request either finds the response or creates the message, never both and
 * never twice. 202 only after the commit (DESIGN); any failure leaves nothing.
 */
export async function acceptHttpMessage(deps: HttpAcceptDeps, req: HttpAcceptRequest): Promise<HttpAcceptResult> {
  const now = deps.clock.now();
  const idem = req.idempotency;
  const lookup = async () =>
    idem ? decideIdempotency(await findIdempotent(deps.pool, req.apiKeyId, idem.key, now), idem.requestHash) : ({ kind: "new" } as const);
  const first = await lookup();
  if (first.kind !== "new") return first;
  try {
    const submission = { ...req.submission, tags: req.tags, metadata: req.metadata };
    const accept = async (db: Queryable) => {
      if (idem && !(await claimIdempotent(db, req.apiKeyId, idem.key, idem.requestHash, now))) throw new LostIdempotencyRace();
      const done = await acceptInTransaction(db, deps.outbox, submission, { clock: deps.clock, redriveAfterMs: deps.redriveAfterMs });
      const response: StoredResponse = { status: 202, body: req.respond(done) };
      if (idem) await recordIdempotent(db, req.apiKeyId, idem.key, done.messageId, response);
      return { pending: done.pending, response, messageId: done.messageId };
    };
    // Without an Idempotency-Key the accept is one statement, a transaction of its own.
    const { pending, response, messageId } = idem ? await withTransaction(deps.pool, accept) : await accept(deps.pool);
    deps.outbox.announce([pending]);
    accepted().add(1, { way: "http" });
    deps.log.debug({ messageId }, "message accepted over HTTP");
    return { kind: "accepted", response };
  } catch (err) {
    if (err instanceof LostIdempotencyRace) {
      const again = await lookup();
      return again.kind === "new" ? { kind: "failed" } : again;
    }
    deps.log.error({ err }, "could not store the message");
    return { kind: "failed" };
  }
}
