import { randomBytes } from "node:crypto";
import { sendMail, type SmtpOutcome } from "./smtp-client.js";

/**
 * The load generator: `total` messages, about half over SMTP (MX, and some over the
 * submission port with STARTTLS + AUTH) and half over HTTP POST /v1/messages with an
 * Idempotency-Key, each carrying a unique token in its Subject. Clients retry as real
 * ones do: SMTP after a 4xx reply or a dropped connection (the whole transaction,
 * later: RFC 5321 §4.5.4.1), HTTP after a 5xx or a network error with the same
 * Idempotency-Key (after Retry-After, capped). A 5xx SMTP reply or a 4xx HTTP answer
 * other than 409/429 is final: the message is refused and the client stops.
 */
export type Channel = "mx" | "submission" | "http";

export interface Target {
  mxPort: number;
  submissionPort: number;
  httpPort: number;
  apiKey: string;
  /** The account that submits over SMTP AUTH, and the address it sends from. */
  submitter: { user: string; pass: string };
  /** Hosted mailboxes (local recipients) and addresses at the sink (remote ones). */
  local: string[];
  remote: string[];
  /** The hosted domain's sender for HTTP. */
  httpFrom: string;
}

export interface LoadOptions {
  total: number;
  /** Share of remote recipients among submission and HTTP messages (MX is local only). */
  remoteShare: number;
  /** Messages per second at most (spreads the load over the faults). */
  rate: number;
  /** Concurrent clients per channel. */
  concurrency: Record<Channel, number>;
  /** How long a client keeps retrying one message after the load has ended. */
  giveUpAfterMs: number;
}

export interface MessageRecord {
  token: string;
  channel: Channel;
  recipient: string;
  remote: boolean;
  idempotencyKey?: string;
  attempts: number;
  /** How many times a client got 250/202 for it (more than once: the client resent an accepted message). */
  acceptedTimes: number;
  acceptedAt?: number;
  /** Longest single attempt that ended in acceptance, ms. */
  acceptLatencyMs?: number;
  /** Ended without acceptance: "refused" by a final reply, or "gave up" retrying. */
  final?: { kind: "refused" | "gave up"; reply: string };
  /** SMTP: connections that dropped after the final dot (RFC 1047), before a reply was read. */
  droppedAfterDot: number;
}

export interface LoadResult {
  messages: MessageRecord[];
  /** Every reply other than success, by channel and code, e.g. "http 503" → 12. */
  replies: Map<string, number>;
  /** Replies that break a promise of the README: HTTP 500, SMTP 5xx for valid mail… */
  wrongReplies: Map<string, number>;
  /** Attempts that started while `mark` was set (see Load.mark) and the worst latency among them. */
  marked: { attempts: number; worstMs: number };
  startedAt: number;
  endedAt: number;
}

const SUBJECT_PREFIX = "chaos";

/** A token that the sink and the database search can find: letters and digits only. */
export function tokenPattern(run: string): RegExp {
  return new RegExp(`ck${run}n\\d+z`);
}

export class Load {
  readonly run = randomBytes(4).toString("hex");
  readonly messages: MessageRecord[] = [];
  private readonly replies = new Map<string, number>();
  private readonly wrongReplies = new Map<string, number>();
  private done = 0;
  private startedAt = 0;
  private endedAt = 0;
  private markOn = false;
  private marked = { attempts: 0, worstMs: 0 };
  private readonly waiters: { fraction: number; resolve: () => void }[] = [];

  constructor(
    private readonly target: Target,
    private readonly options: LoadOptions,
  ) {
    const { total, remoteShare } = options;
    let local = 0;
    let remote = 0;
    for (let i = 0; i < total; i++) {
      // Half over HTTP; of the other half, seven in ten over MX, three over submission.
      const channel: Channel = i % 2 === 0 ? "http" : i % 20 < 14 ? "mx" : "submission";
      const toRemote = channel !== "mx" && (i * 7919) % 1000 < remoteShare * 1000;
      const recipient = toRemote ? target.remote[remote++ % target.remote.length]! : target.local[local++ % target.local.length]!;
      this.messages.push({
        token: `ck${this.run}n${i}z`,
        channel,
        recipient,
        remote: toRemote,
        idempotencyKey: channel === "http" ? `chaos-${this.run}-${i}` : undefined,
        attempts: 0,
        acceptedTimes: 0,
        droppedAfterDot: 0,
      });
    }
  }

  /** Accepted or finally refused so far, as a fraction of all messages. */
  progress(): number {
    return this.done / this.messages.length;
  }

  /** Resolves once `fraction` of the messages are settled (accepted or refused). */
  reached(fraction: number): Promise<void> {
    if (this.progress() >= fraction) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ fraction, resolve }));
  }

  /** While set, attempts are counted apart (e.g. during a broker alarm) with their worst latency. */
  mark(on: boolean): void {
    this.markOn = on;
  }

  private settle(): void {
    this.done++;
    const p = this.progress();
    for (const w of this.waiters.splice(0)) {
      if (p >= w.fraction) w.resolve();
      else this.waiters.push(w);
    }
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  async start(): Promise<LoadResult> {
    this.startedAt = Date.now();
    const { rate, concurrency, giveUpAfterMs } = this.options;

    // Message i is first tried no earlier than i / rate seconds in; a retry waits in its
    // channel's retry list with the time it may be tried again.
    const fresh: Record<Channel, { records: MessageRecord[]; next: number }> = {
      mx: { records: [], next: 0 },
      submission: { records: [], next: 0 },
      http: { records: [], next: 0 },
    };
    const retries: Record<Channel, { record: MessageRecord; notBefore: number }[]> = { mx: [], submission: [], http: [] };
    const firstTry = new Map<MessageRecord, number>();
    this.messages.forEach((record, i) => {
      fresh[record.channel].records.push(record);
      firstTry.set(record, this.startedAt + (i * 1000) / rate);
    });
    let lastFreshAt = this.startedAt;
    let unsettled = this.messages.length;

    const worker = async (channel: Channel) => {
      const f = fresh[channel];
      const r = retries[channel];
      while (unsettled > 0) {
        const now = Date.now();
        let record: MessageRecord | undefined;
        const due = r.findIndex((q) => q.notBefore <= now);
        if (due >= 0) record = r.splice(due, 1)[0]!.record;
        else if (f.next < f.records.length && firstTry.get(f.records[f.next]!)! <= now) {
          record = f.records[f.next++]!;
          lastFreshAt = now;
        }
        if (!record) {
          if (f.next >= f.records.length && !r.length) return;
          await sleep(20);
          continue;
        }
        const retryIn = await this.attempt(record);
        if (retryIn === undefined) {
          unsettled--;
          this.settle();
          continue;
        }
        const allFreshTried = Object.values(fresh).every((x) => x.next >= x.records.length);
        if (allFreshTried && Date.now() + retryIn > lastFreshAt + giveUpAfterMs) {
          record.final = { kind: "gave up", reply: record.final?.reply ?? "" };
          unsettled--;
          this.settle();
          continue;
        }
        r.push({ record, notBefore: Date.now() + retryIn });
      }
    };
    const workers: Promise<void>[] = [];
    for (const channel of ["mx", "submission", "http"] as Channel[]) {
      for (let k = 0; k < concurrency[channel]; k++) workers.push(worker(channel));
    }
    await Promise.all(workers);
    this.endedAt = Date.now();
    return {
      messages: this.messages,
      replies: this.replies,
      wrongReplies: this.wrongReplies,
      marked: this.marked,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
    };
  }

  /** One attempt; returns undefined when the message is settled, else ms until the retry. */
  private async attempt(record: MessageRecord): Promise<number | undefined> {
    record.attempts++;
    const marked = this.markOn;
    const t0 = Date.now();
    const result = record.channel === "http" ? await this.attemptHttp(record) : await this.attemptSmtp(record);
    const ms = Date.now() - t0;
    if (marked) {
      this.marked.attempts++;
      this.marked.worstMs = Math.max(this.marked.worstMs, ms);
    }
    if (result === "accepted") {
      record.acceptedTimes++;
      record.acceptedAt ??= Date.now();
      record.acceptLatencyMs = Math.max(record.acceptLatencyMs ?? 0, ms);
      record.final = undefined;
      return undefined;
    }
    if (result.final) {
      record.final = { kind: "refused", reply: result.reply };
      return undefined;
    }
    record.final = { kind: "gave up", reply: result.reply };
    return result.retryInMs;
  }

  private readonly composed = new Map<MessageRecord, string>();

  /** The message as the client queued it: a retry sends the very same bytes, as an MTA's queue file would. */
  private message(record: MessageRecord, from: string): string {
    let data = this.composed.get(record);
    if (data) return data;
    data = [
      `From: <${from}>`,
      `To: <${record.recipient}>`,
      `Subject: ${SUBJECT_PREFIX} ${record.token}`,
      `Message-ID: <${record.token}@load.chaos.test>`,
      `Date: ${new Date().toUTCString()}`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Chaos load message ${record.token}.`,
      "Store and forward, nothing lost, nothing doubled.",
      "",
    ].join("\r\n");
    this.composed.set(record, data);
    return data;
  }

  private async attemptSmtp(record: MessageRecord): Promise<"accepted" | { final: boolean; reply: string; retryInMs: number }> {
    const submission = record.channel === "submission";
    const from = submission ? this.target.submitter.user : `peer${record.token}@sender.chaos.test`;
    const out: SmtpOutcome = await sendMail({
      host: "127.0.0.1",
      port: submission ? this.target.submissionPort : this.target.mxPort,
      auth: submission ? this.target.submitter : undefined,
      from,
      to: record.recipient,
      data: this.message(record, from),
      timeoutMs: 60_000,
    });
    const ch = record.channel;
    if (out.kind === "accepted") return "accepted";
    const retryInMs = 1000 + Math.floor(Math.random() * 1500);
    if (out.kind === "dropped") {
      if (out.afterDot) record.droppedAfterDot++;
      this.count(this.replies, `${ch} dropped${out.afterDot ? " after the dot" : ""}`);
      return { final: false, reply: `dropped at ${out.stage}: ${out.error}`, retryInMs };
    }
    const reply = `${out.code} ${out.text}`.slice(0, 120);
    this.count(this.replies, `${ch} ${out.stage} ${out.code}`);
    if (out.code >= 500) {
      // Valid mail from a valid client: a permanent refusal is never the right answer to a fault.
      this.count(this.wrongReplies, `${ch} ${out.stage} ${reply}`);
      return { final: true, reply, retryInMs };
    }
    return { final: false, reply, retryInMs };
  }

  private async attemptHttp(record: MessageRecord): Promise<"accepted" | { final: boolean; reply: string; retryInMs: number }> {
    const from = this.target.httpFrom;
    let res: Response;
    try {
      res = await fetch(`http://127.0.0.1:${this.target.httpPort}/v1/messages`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.target.apiKey}`,
          "content-type": "application/json",
          "idempotency-key": record.idempotencyKey!,
        },
        body: JSON.stringify({
          from,
          to: [record.recipient],
          subject: `${SUBJECT_PREFIX} ${record.token}`,
          text: `Chaos load message ${record.token}.\r\nStore and forward, nothing lost, nothing doubled.\r\n`,
        }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      this.count(this.replies, "http network error");
      return { final: false, reply: `network: ${(err as Error).message}`, retryInMs: 1000 };
    }
    const body = await res.text().catch(() => "");
    if (res.status === 202) return "accepted";
    const reply = `${res.status} ${body.slice(0, 100)}`;
    this.count(this.replies, `http ${res.status}`);
    if (res.status >= 500) {
      // README: a failed accept is 503 with Retry-After; anything else breaks that promise.
      if (res.status !== 503 || !res.headers.get("retry-after")) this.count(this.wrongReplies, `http ${res.status}${res.status === 503 ? " without Retry-After" : ""}`);
      const after = Number(res.headers.get("retry-after"));
      return { final: false, reply, retryInMs: Number.isFinite(after) && after > 0 ? Math.min(after, 2) * 1000 : 1000 };
    }
    if (res.status === 409 || res.status === 429) return { final: false, reply, retryInMs: 1000 };
    this.count(this.wrongReplies, `http ${res.status}`);
    return { final: true, reply, retryInMs: 0 };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
