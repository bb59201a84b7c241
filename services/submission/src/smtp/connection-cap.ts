import { replies, type Reply } from "./replies.js";

/** SMTP_MAX_CONNECTIONS' default: connections one listener of a process takes from all clients together. */
export const DEFAULT_MAX_CONNECTIONS = 1000;

/**
 * The cap on the connections one SMTP listener of this process holds, from every client
 * together (SMTP_MAX_CONNECTIONS), beside the per-address limit shared in Redis
 * (limits.ts): it bounds the sockets, buffers and sessions that many addresses at once
 * can make one process hold. `open` is smtp-server's count, this connection included,
 * from accept to close. Checked in memory before the Redis lease is taken.
 */
export function connectionCapVerdict(open: number, max: number): Reply | undefined {
  // RFC 5321 §3.8: a server that cannot serve now answers 421 and closes.
  return open > max ? replies.serverBusy() : undefined;
}
