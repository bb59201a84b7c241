import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { parseAnswer, type RspamdAnswer } from "./answer.js";
import { requestHeaders, type CheckEnvelope } from "./request.js";

export interface RspamdClientOptions {
  /** rspamd's normal worker or proxy, e.g. http://127.0.0.1:11333 (RSPAMD_URL). */
  url: string;
  /** Whole request, from connect to the last byte of the answer (RSPAMD_TIMEOUT). */
  timeoutMs: number;
  /** Sent as the Password header (RSPAMD_PASSWORD). */
  password?: string | undefined;
}

/** Why no answer could be used: for the failures metric and the log. */
export type FailureReason = "timeout" | "connect" | "status" | "answer";

export type CheckResult =
  | { outcome: "answer"; answer: RspamdAnswer; durationMs: number }
  | { outcome: "timeout"; durationMs: number; detail: string }
  | { outcome: "error"; reason: Exclude<FailureReason, "timeout">; durationMs: number; detail: string };

/**
 * A client of rspamd's HTTP protocol: POST /checkv2 with the message as the body and
 * the envelope as headers. node:http rather than fetch, because the protocol wants one
 * Rcpt header line per recipient. Connections are kept alive between checks.
 */
export class RspamdClient {
  private readonly endpoint: URL;
  private readonly agent: HttpAgent;

  constructor(private readonly options: RspamdClientOptions) {
    const base = new URL(options.url);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`rspamd URL must use http:// or https://, got '${options.url}'`);
    this.endpoint = new URL(base.pathname.replace(/\/+$/, "") + "/checkv2", base);
    this.agent = base.protocol === "https:" ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** Scans one message; never throws: no answer in time or an unusable one is a result too. */
  check(envelope: CheckEnvelope, message: Buffer): Promise<CheckResult> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const request = this.endpoint.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<CheckResult>((resolve) => {
      let settled = false;
      const settle = (r: CheckResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = request(this.endpoint, {
        method: "POST",
        agent: this.agent,
        headers: { ...requestHeaders(envelope, this.options.password), "Content-Length": String(message.length) },
      });
      const timer = setTimeout(() => {
        settle({ outcome: "timeout", durationMs: elapsed(), detail: `no answer within ${this.options.timeoutMs} ms` });
        req.destroy();
      }, this.options.timeoutMs);
      req.once("error", (err: NodeJS.ErrnoException) => settle({ outcome: "error", reason: "connect", durationMs: elapsed(), detail: err.code ?? err.message }));
      req.once("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("error", (err) => settle({ outcome: "error", reason: "connect", durationMs: elapsed(), detail: err.message }));
        res.once("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) {
            return settle({ outcome: "error", reason: "status", durationMs: elapsed(), detail: `HTTP ${res.statusCode}: ${body.slice(0, 200)}` });
          }
          const parsed = parseAnswer(body);
          settle(parsed.ok ? { outcome: "answer", answer: parsed.answer, durationMs: elapsed() } : { outcome: "error", reason: "answer", durationMs: elapsed(), detail: parsed.problem });
        });
      });
      req.end(message);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One check with a client of its own (tests, the CLI); a service keeps one RspamdClient. */
export async function checkMessage(options: RspamdClientOptions, envelope: CheckEnvelope, message: Buffer): Promise<CheckResult> {
  const client = new RspamdClient(options);
  try {
    return await client.check(envelope, message);
  } finally {
    client.close();
  }
}
