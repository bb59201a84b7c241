import http from "node:http";
import https from "node:https";
import { signatureHeader } from "@correo/signed-post";

/** What an endpoint said to one POST (or why it said nothing). */
export interface PostResult {
  status: number | null;
  durationMs: number;
  error: string | null;
  /** The first RESPONSE_EXCERPT_CHARS characters of its body, for the attempts list. */
  responseExcerpt: string | null;
}

export const RESPONSE_EXCERPT_CHARS = 1024;
export const EVENT_ID_HEADER = "correo-event-id";
export const EVENT_TYPE_HEADER = "correo-event-type";

// Connections kept open between POSTs to the same endpoint (node:http rather than fetch:
// a third of the CPU per request on Node 20). The per-endpoint bound is the worker's.
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
};

/**
 * POSTs one signed event. Never throws: a refused connection, a timeout or a reset is an
 * attempt without a status. Redirects are not followed (a 3xx is a failure), so that the
 * signed body goes only where the endpoint's owner said. `timeoutMs` bounds the whole
 * exchange, connection to last byte of the answer.
 */
export function postEvent(
  req: { url: string; secrets: string[]; eventId: string; eventType: string; body: string },
  opts: { timeoutMs: number; now: () => Date; userAgent?: string },
): Promise<PostResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const done = (r: Omit<PostResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: took() });
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return done({ status: null, error: "invalid URL", responseExcerpt: null });
    }
    const body = Buffer.from(req.body);
    const mod = url.protocol === "https:" ? https : http;
    const request = mod.request(url, {
      method: "POST",
      agent: agents[url.protocol as "http:" | "https:"],
      headers: {
        "content-type": "application/json",
        "content-length": body.length,
        "user-agent": opts.userAgent ?? "Correo-Webhooks/1",
        "correo-signature": signatureHeader(req.secrets, body, opts.now()),
        [EVENT_ID_HEADER]: req.eventId,
        [EVENT_TYPE_HEADER]: req.eventType,
      },
    });
    const timer = setTimeout(() => {
      done({ status: null, error: `no answer within ${opts.timeoutMs} ms`, responseExcerpt: null });
      request.destroy();
    }, opts.timeoutMs);
    request.on("error", (err: NodeJS.ErrnoException) => done({ status: null, error: err.code ?? err.message, responseExcerpt: null }));
    request.on("response", (res) => {
      const status = res.statusCode ?? 0;
      let text = "";
      res.setEncoding("utf8");
      // Read to the end (so the connection is reused), keep the start.
      res.on("data", (chunk: string) => {
        if (text.length < RESPONSE_EXCERPT_CHARS) text += chunk.slice(0, RESPONSE_EXCERPT_CHARS - text.length);
      });
      const finish = () => done({ status, error: status >= 200 && status < 300 ? null : `HTTP ${status}`, responseExcerpt: text || null });
      res.on("end", finish);
      // A body cut off after the status: the status is the answer.
      res.on("error", finish);
      res.on("aborted", finish);
    });
    request.end(body);
  });
}
