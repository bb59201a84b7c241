import { afterFailure, type BackoffPolicy, type Random } from "@correo/queue";
import type { RouteFallback } from "@correo/directory";

/** What one POST to a route's endpoint came to. */
export type EndpointAnswer = { kind: "status"; status: number; body: string } | { kind: "failed"; error: string };

export type EndpointVerdict =
  | { kind: "delivered"; response: string }
  | { kind: "retry"; at: Date; response: string }
  | { kind: "fallback"; fallback: RouteFallback; response: string };

const MAX_BODY_IN_REPLY = 200;

/** How the endpoint's answer reads on the timeline, e.g. `HTTP 500 from https://…: oops`. */
export function describeAnswer(url: string, a: EndpointAnswer): string {
  if (a.kind === "failed") return `no HTTP answer from ${url}: ${a.error}`;
  const body = a.body.replace(/\s+/g, " ").trim().slice(0, MAX_BODY_IN_REPLY);
  return `HTTP ${a.status} from ${url}${body ? `: ${body}` : ""}`;
}

/**
 * Pure: a 2xx delivers; anything else (another status, a timeout, a refused connection)
 * is retried on the relay's back-off until the route's give-up time after the message
 * arrived, and then the route's fallback takes it with the last answer as the reason.
 * Redirects are not followed (fetch's `redirect: "manual"` makes them a 3xx here): the
 * route's URL is what its owner configured.
 */
export function decideEndpoint(input: {
  url: string;
  answer: EndpointAnswer;
  now: Date;
  acceptedAt: Date;
  attempts: number;
  giveUpAfterSeconds: number;
  fallback: RouteFallback;
  policy: BackoffPolicy;
  random: Random;
}): EndpointVerdict {
  const response = describeAnswer(input.url, input.answer);
  if (input.answer.kind === "status" && input.answer.status >= 200 && input.answer.status < 300) return { kind: "delivered", response };
  const giveUpAt = new Date(input.acceptedAt.getTime() + input.giveUpAfterSeconds * 1000);
  const next = afterFailure(input.now, input.attempts, giveUpAt, input.policy, input.random);
  if (next.kind === "expire") return { kind: "fallback", fallback: input.fallback, response };
  return { kind: "retry", at: next.at, response };
}
