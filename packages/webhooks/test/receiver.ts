import Fastify, { type FastifyInstance } from "fastify";
import { verifySignature } from "@correo/signed-post";

export interface Received {
  eventId: string;
  type: string;
  body: { id: string; type: string; created_at: string; data: Record<string, unknown> };
  signatureValid: boolean;
}

/**
 * A webhook consumer as its docs tell users to write one: a fastify server that checks
 * Correo-Signature over the raw body, answers `failFirst` requests with 500, then 200,
 * and waits `delayMs` before answering when asked to be slow. `now`: the clock it checks
 * the signature's time against (the test's injected clock).
 */
export async function startReceiver(opts: { secret: () => string; failFirst?: number; delayMs?: number; now?: () => Date }): Promise<{
  url: string;
  received: Received[];
  requests: () => number;
  setFailing: (n: number) => void;
  close: () => Promise<void>;
}> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true });
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
  const received: Received[] = [];
  let failing = opts.failFirst ?? 0;
  let requests = 0;
  app.post("/hook", async (req, reply) => {
    requests++;
    const raw = req.body as string;
    const check = verifySignature(req.headers["correo-signature"] as string | undefined, opts.secret(), raw, opts.now?.() ?? new Date());
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (!check.valid) return reply.code(400).send({ error: check.reason });
    if (failing > 0) {
      failing--;
      return reply.code(500).send("receiver down for maintenance");
    }
    received.push({ eventId: req.headers["correo-event-id"] as string, type: req.headers["correo-event-type"] as string, body: JSON.parse(raw), signatureValid: true });
    return reply.code(200).send({ ok: true });
  });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url: `${address}/hook`,
    received,
    requests: () => requests,
    setFailing: (n) => (failing = n),
    close: () => app.close(),
  };
}
