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

/**
 * POSTs one signed event. Never throws: a refused connection, a timeout or a reset is an
 * attempt without a status. Redirects are not followed (a 3xx is a failure), so that the
 * signed body goes only where the endpoint's owner said.
 */
export async function postEvent(
  req: { url: string; secrets: string[]; eventId: string; eventType: string; body: string },
  opts: { timeoutMs: number; now: () => Date; userAgent?: string },
): Promise<PostResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(req.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": opts.userAgent ?? "Correo-Webhooks/1",
        "correo-signature": signatureHeader(req.secrets, req.body, opts.now()),
        [EVENT_ID_HEADER]: req.eventId,
        [EVENT_TYPE_HEADER]: req.eventType,
      },
      body: req.body,
    });
    let text = "";
    try {
      text = (await res.text()).slice(0, RESPONSE_EXCERPT_CHARS);
    } catch {
      // A body cut off after the status: the status is the answer.
    }
    return { status: res.status, durationMs: took(), error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`, responseExcerpt: text || null };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason =
      e.name === "TimeoutError" ? `no answer within ${opts.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { status: null, durationMs: took(), error: reason, responseExcerpt: null };
  }
}
