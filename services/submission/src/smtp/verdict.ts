import type { Reply } from "./replies.js";

/**
 * What a policy decides about one step of an SMTP transaction (Haraka's OK / DENYSOFT
 * / DENY): go on, refuse for now (4xx, the client retries), or refuse for good (5xx).
 */
export type Verdict = { verdict: "accept" } | { verdict: "defer"; reply: Reply } | { verdict: "reject"; reply: Reply };

export const accept: Verdict = { verdict: "accept" };
export const defer = (reply: Reply): Verdict => ({ verdict: "defer", reply });
export const reject = (reply: Reply): Verdict => ({ verdict: "reject", reply });
