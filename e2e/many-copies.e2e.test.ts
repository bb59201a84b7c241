import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImapFlow } from "imapflow";
import { addAccount, addDomain, addTransport, createApiKey } from "@correo/directory";
import { freePort } from "@correo/testkit";
import { startCorreoCopies, type CorreoCopies, type CorreoCopy, type ServiceName } from "./harness.js";
import { Load, type LoadResult } from "./chaos/load.js";
import { RemoteSink } from "./chaos/sink.js";
import { sendMail, type SmtpOutcome } from "./chaos/smtp-client.js";

/**
 * Issue 16 item 3: two copies of every service at once, on one database, one broker
 * prefix and one Redis, under a mixed load — SMTP MX, SMTP submission and HTTP to both
 * submission copies, local mailboxes and a remote MX (the sink) that defers every
 * message's first attempt. Nothing accepted is lost or stored twice; the state the
 * copies must share is shared: IDLE on either retrieval copy wakes for changes made by
 * the other, POP3's maildrop lock, the SMTP per-address connection limit and the
 * per-account message rate hold over both copies, and so does the relay's
 * per-destination connection limit.
 */
const HOSTED = "hosted.copies.test";
const SINK = "sink.copies.test";
const PASSWORD = "copies-secret-1";
const DESTINATION_CONCURRENCY = 2;
const CONNECTIONS_PER_IP = 16;
const MESSAGES_PER_HOUR = 30;
const PER_COPY = 150;

const env: Record<string, string> = {
  LOG_LEVEL: "warn",
  RELAY_MIN_BACKOFF: "1s",
  RELAY_MAX_BACKOFF: "2s",
  RELAY_CONNECT_TIMEOUT: "5s",
  RELAY_CONNECTION_IDLE: "1s",
  RELAY_DSN_INTERVAL: "1s",
  RELAY_DESTINATION_CONCURRENCY: String(DESTINATION_CONCURRENCY),
  OUTBOX_SWEEP_INTERVAL: "1s",
  SMTP_MAX_CONNECTIONS_PER_IP: String(CONNECTIONS_PER_IP),
  SMTP_MESSAGES_PER_HOUR: String(MESSAGES_PER_HOUR),
  // Every stored copy counts: a delivery stored twice must show, not be folded away.
  MAILBOX_DUPLICATE_WINDOW: "off",
};

let correo: CorreoCopies;
let a: CorreoCopy;
let b: CorreoCopy;
let apiKey = "";
const sink = new RemoteSink(/ck[0-9a-f]{8}n\d+z/);
const local = ["ana", "bea", "cai", "ida"].map((u) => `${u}@${HOSTED}`);
const watched = `ida@${HOSTED}`;
const popUser = `pop@${HOSTED}`;
const quotaUser = `quota@${HOSTED}`;

beforeAll(async () => {
  const sinkPort = await freePort();
  await sink.listen(sinkPort);
  // Slow enough a reply that deliveries overlap and the destination limit is pressed.
  sink.beforeReply = () => new Promise((r) => setTimeout(r, 20));
  correo = await startCorreoCopies("e2e-many-copies", 2, {
    env,
    prepare: async (infra) => {
      await addDomain(infra.pool, HOSTED);
      for (const user of [...local, popUser, quotaUser, `sender-a@${HOSTED}`, `sender-b@${HOSTED}`]) await addAccount(infra.pool, user, PASSWORD);
      await addTransport(infra.pool, SINK, "127.0.0.1", sinkPort, { tlsPolicy: "none" });
      apiKey = (await createApiKey(infra.pool, HOSTED)).token;
    },
  });
  [a, b] = correo.copies as [CorreoCopy, CorreoCopy];
}, 180_000);

afterAll(async () => {
  await correo?.stop();
  await sink.close();
});

const port = (copy: CorreoCopy, variable: string) => Number(copy.env[variable]);

/** A raw IMAP session in IDLE on one copy: counts the EXISTS it is told while idling. */
class IdleSession {
  exists = 0;
  private buf = "";
  private constructor(private readonly socket: Socket) {}

  static async open(imapPort: number, user: string): Promise<IdleSession> {
    const socket = connect({ host: "127.0.0.1", port: imapPort, noDelay: true });
    const s = new IdleSession(socket);
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      // Whole lines only: a response split over two reads is counted once it is complete.
      const start = s.buf.lastIndexOf("\n") + 1;
      s.buf += d;
      for (const m of s.buf.slice(start).matchAll(/^\* (\d+) EXISTS\r$/gm)) s.exists = Math.max(s.exists, Number(m[1]));
    });
    socket.on("error", () => undefined);
    await s.until(/^\* OK/m);
    socket.write(`a LOGIN ${user} ${PASSWORD}\r\n`);
    await s.until(/^a OK/m);
    socket.write("b SELECT INBOX\r\n");
    await s.until(/^b OK/m);
    socket.write("c IDLE\r\n");
    await s.until(/^\+ idling/m);
    return s;
  }

  private async until(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.buf)) {
      if (Date.now() > deadline) throw new Error(`IMAP: no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(this.buf.slice(-300))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits until the session has been told of `count` messages. */
  async sees(count: number, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    while (this.exists < count) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`IDLE told of ${this.exists} messages, not ${count}, within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return Date.now() - t0;
  }

  close(): void {
    this.socket.end("DONE\r\nz LOGOUT\r\n");
  }
}

/** A raw POP3 session: connects and logs in; returns the answer to PASS and the socket. */
async function pop3Login(pop3Port: number, user: string): Promise<{ reply: string; quit(): Promise<void> }> {
  const socket = connect({ host: "127.0.0.1", port: pop3Port, noDelay: true });
  socket.setEncoding("latin1");
  let buf = "";
  socket.on("data", (d: string) => (buf += d));
  socket.on("error", () => undefined);
  const line = async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const i = buf.indexOf("\r\n");
      if (i >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 2);
        return l;
      }
      if (Date.now() > deadline) throw new Error(`POP3: no reply; got ${JSON.stringify(buf)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await line();
  socket.write(`USER ${user}\r\n`);
  await line();
  socket.write(`PASS ${PASSWORD}\r\n`);
  const reply = await line();
  return {
    reply,
    async quit() {
      socket.write("QUIT\r\n");
      await line().catch(() => undefined);
      socket.destroy();
    },
  };
}

/** Sum of a counter's samples on one process's /metrics whose labels contain `labels`. */
async function metric(copy: CorreoCopy, service: ServiceName, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${copy.ports.ops[service]}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Token → copies stored in the mailboxes, and → deliveries written for it. */
async function stored(): Promise<Map<string, number>> {
  const { rows } = await correo.infra.pool.query<{ token: string; copies: number }>(
    `SELECT substring(m.subject from 'ck[0-9a-f]+n[0-9]+z') AS token, count(*)::int AS copies
       FROM mailbox_messages mm JOIN deliveries d ON d.id = mm.delivery_id JOIN messages m ON m.id = d.message_id
      WHERE m.subject LIKE 'chaos ck%' GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.token, r.copies]));
}

function loadOn(copy: CorreoCopy, submitter: string): Load {
  return new Load(
    {
      mxPort: port(copy, "SMTP_MX_PORT"),
      submissionPort: port(copy, "SMTP_SUBMISSION_PORT"),
      httpPort: copy.ports.http,
      apiKey,
      submitter: { user: submitter, pass: PASSWORD },
      local,
      remote: ["rhea", "saul", "tove"].map((u) => `${u}@${SINK}`),
      httpFrom: `api@${HOSTED}`,
    },
    // 2 × (4 MX + 3 submission) SMTP clients stay under CONNECTIONS_PER_IP.
    { total: PER_COPY, remoteShare: 0.4, rate: 40, concurrency: { mx: 4, submission: 3, http: 4 }, giveUpAfterMs: 60_000 },
  );
}

describe("two copies of every service under a mixed load", () => {
  let results: LoadResult[] = [];
  let idle: { onA: IdleSession; onB: IdleSession };
  const wakes: { on: string; by: string; ms: number }[] = [];
  const pop3Replies: string[] = [];

  it("takes SMTP and HTTP on both submission copies while IDLE and POP3 run on both retrieval copies", async () => {
    idle = { onA: await IdleSession.open(port(a, "IMAP_PORT"), watched), onB: await IdleSession.open(port(b, "IMAP_PORT"), watched) };
    const loads = [loadOn(a, `sender-a@${HOSTED}`), loadOn(b, `sender-b@${HOSTED}`)];
    const running = Promise.all(loads.map((l) => l.start()));

    // Meanwhile, POP3's one session per maildrop, over both copies (RFC 1939 §8, RFC 2449 §8.1.2).
    const onA = await pop3Login(port(a, "POP3_PORT"), popUser);
    const onB = await pop3Login(port(b, "POP3_PORT"), popUser);
    pop3Replies.push(onA.reply, onB.reply);
    await onA.quit();
    await onB.quit();
    const laterOnB = await pop3Login(port(b, "POP3_PORT"), popUser);
    const thenOnA = await pop3Login(port(a, "POP3_PORT"), popUser);
    pop3Replies.push(laterOnB.reply, thenOnA.reply);
    await thenOnA.quit();
    await laterOnB.quit();

    results = await running;
    const messages = results.flatMap((r) => r.messages);
    expect(messages.filter((m) => m.acceptedTimes === 0).map((m) => `${m.channel} ${m.final?.kind}: ${m.final?.reply}`)).toEqual([]);
    expect(messages.filter((m) => m.acceptedTimes > 1)).toEqual([]);
    expect(results.flatMap((r) => [...r.wrongReplies])).toEqual([]);
  }, 180_000);

  it("allows one POP3 session per maildrop over both retrieval copies: the other gets -ERR [IN-USE]", () => {
    expect(pop3Replies[0]).toMatch(/^\+OK/);
    expect(pop3Replies[1]).toMatch(/^-ERR \[IN-USE\]/);
    expect(pop3Replies[2]).toMatch(/^\+OK/);
    expect(pop3Replies[3]).toMatch(/^-ERR \[IN-USE\]/);
  });

  it("delivers every accepted message exactly once, to its mailbox or the remote MX after a 4xx deferral", async () => {
    const messages = results.flatMap((r) => r.messages);
    const localOnes = messages.filter((m) => !m.remote);
    const remoteOnes = messages.filter((m) => m.remote);
    let mailbox = new Map<string, number>();
    const missing = () => [
      ...localOnes.filter((m) => !mailbox.get(m.token)).map((m) => m.token),
      ...remoteOnes.filter((m) => !sink.taken.get(m.token)).map((m) => m.token),
    ];
    const deadline = Date.now() + 90_000;
    for (;;) {
      mailbox = await stored();
      if (missing().length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(missing()).toEqual([]);
    expect([...mailbox].filter(([, n]) => n > 1)).toEqual([]);
    expect([...sink.taken].filter(([, n]) => n > 1)).toEqual([]);
    expect(mailbox.size).toBe(localOnes.length);
    expect(sink.taken.size).toBe(remoteOnes.length);
    // Every remote message was deferred once (451) before the sink took it.
    expect(remoteOnes.filter((m) => sink.deferred.get(m.token) !== 1)).toEqual([]);
    expect(remoteOnes.length).toBeGreaterThan(50);
  }, 120_000);

  it("spreads the work over both copies of every service", async () => {
    const work: Record<string, [string, string]> = {
      submission: ["correo_messages_accepted_total", ""],
      routing: ["correo_deliveries_routed_total", ""],
      "relay-queue": ["correo_deliveries_completed_total", 'route="remote"'],
      mailbox: ["correo_deliveries_completed_total", 'route="local"'],
    };
    for (const [service, [name, labels]] of Object.entries(work)) {
      const done = [await metric(a, service as ServiceName, name, labels), await metric(b, service as ServiceName, name, labels)];
      expect({ service, done: done.map((n) => n > 0) }).toEqual({ service, done: [true, true] });
    }
  });

  it("keeps the relay's transactions at one destination within RELAY_DESTINATION_CONCURRENCY over both relay copies", () => {
    // The slots (Redis) bound the attempts under way at once over all copies. Each copy's
    // connection cache may keep up to the limit open besides (docs/operations.md).
    expect(sink.maxInTransaction).toBeGreaterThanOrEqual(1);
    expect(sink.maxInTransaction).toBeLessThanOrEqual(DESTINATION_CONCURRENCY);
    expect(sink.maxOpen).toBeLessThanOrEqual(DESTINATION_CONCURRENCY * correo.copies.length);
    console.info(`sink: at most ${sink.maxInTransaction} transactions and ${sink.maxOpen} connections at once (limit ${DESTINATION_CONCURRENCY}, ${correo.copies.length} relay copies)`);
  });

  it("wakes IDLE on either retrieval copy for mail the mailbox copies delivered during the load", async () => {
    const { rows } = await correo.infra.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id JOIN accounts ac ON ac.id = m.account_id WHERE ac.address = $1 AND m.name = 'INBOX'",
      [watched],
    );
    const n = rows[0]!.n;
    expect(n).toBeGreaterThan(10);
    // Below IDLE's own 30 s poll: the mailbox.changed notifications woke them.
    await idle.onA.sees(n, 10_000);
    await idle.onB.sees(n, 10_000);
  });

  it("wakes IDLE on one retrieval copy for a message appended through the other", async () => {
    for (const [by, copy, on] of [
      ["B", b, "A"],
      ["A", a, "B"],
    ] as const) {
      const before = { A: idle.onA.exists, B: idle.onB.exists }[on];
      const client = new ImapFlow({ host: "127.0.0.1", port: port(copy, "IMAP_PORT"), secure: false, auth: { user: watched, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
      await client.connect();
      await client.append("INBOX", `From: <x@${HOSTED}>\r\nSubject: appended through ${by}\r\n\r\nhola\r\n`);
      await client.logout();
      const ms = await (on === "A" ? idle.onA : idle.onB).sees(before + 1, 10_000);
      wakes.push({ on, by, ms });
    }
    expect(wakes.map((w) => `${w.on}<-${w.by}`)).toEqual(["A<-B", "B<-A"]);
    idle.onA.close();
    idle.onB.close();
  });

  it("tells a NOTIFY session on one retrieval copy of a mailbox created through the other, well before its 30-s poll", async () => {
    const socket = connect({ host: "127.0.0.1", port: port(a, "IMAP_PORT"), noDelay: true });
    let buf = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (buf += d));
    socket.on("error", () => undefined);
    const until = async (pattern: RegExp, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(buf)) {
        if (Date.now() > deadline) throw new Error(`IMAP: no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(buf.slice(-300))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await until(/^\* OK/m, 10_000);
      socket.write(`a LOGIN ${watched} ${PASSWORD}\r\n`);
      await until(/^a OK/m, 10_000);
      // RFC 5465 §5.4 MailboxName. The session's own poll first runs 30 s after this SET,
      // and a CREATE publishes no mailbox.changed: only copy B's mailboxes.changed can tell it sooner.
      socket.write("n NOTIFY SET (personal (MailboxName SubscriptionChange))\r\n");
      await until(/^n OK/m, 10_000);
      const setAt = Date.now();
      const client = new ImapFlow({ host: "127.0.0.1", port: port(b, "IMAP_PORT"), secure: false, auth: { user: watched, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
      await client.connect();
      await client.mailboxCreate("Announced");
      await client.logout();
      await until(/^\* LIST \([^)]*\) "\/" "?Announced"?\r$/m, 10_000);
      expect(Date.now() - setAt).toBeLessThan(15_000);
    } finally {
      socket.destroy();
    }
  });

  it("holds SMTP_MAX_CONNECTIONS_PER_IP as one limit over both submission copies", async () => {
    const greet = (mxPort: number) =>
      new Promise<{ socket: Socket; reply: string }>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: mxPort });
        let data = "";
        socket.setEncoding("utf8");
        socket.on("data", (d: string) => {
          data += d;
          if (data.includes("\r\n")) resolve({ socket, reply: data.slice(0, 3) });
        });
        socket.on("error", reject);
      });
    const open: Socket[] = [];
    try {
      const first = [];
      for (let i = 0; i < CONNECTIONS_PER_IP; i++) first.push(await greet(port(i % 2 ? b : a, "SMTP_MX_PORT")));
      open.push(...first.map((g) => g.socket));
      expect(first.map((g) => g.reply)).toEqual(Array(CONNECTIONS_PER_IP).fill("220"));
      const over = [await greet(port(a, "SMTP_MX_PORT")), await greet(port(b, "SMTP_MX_PORT"))];
      open.push(...over.map((g) => g.socket));
      expect(over.map((g) => g.reply)).toEqual(["421", "421"]);
    } finally {
      open.forEach((s) => s.destroy());
    }
  });

  it("holds SMTP_MESSAGES_PER_HOUR as one budget for an account submitting through both copies at once", async () => {
    // 8 sessions in flight, alternating copies; more messages than the budget.
    const total = MESSAGES_PER_HOUR + 10;
    const outcomes: SmtpOutcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        outcomes.push(
          await sendMail({
            host: "127.0.0.1",
            port: port(i % 2 ? b : a, "SMTP_SUBMISSION_PORT"),
            auth: { user: quotaUser, pass: PASSWORD },
            from: quotaUser,
            to: `ana@${HOSTED}`,
            data: `From: <${quotaUser}>\r\nTo: <ana@${HOSTED}>\r\nSubject: quota ${i}\r\n\r\nrate\r\n`,
            timeoutMs: 30_000,
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const accepted = outcomes.filter((o) => o.kind === "accepted").length;
    const limited = outcomes.filter((o) => o.kind === "reply" && o.code === 450 && /4\.7\.1/.test(o.text)).length;
    expect({ accepted, limited, other: total - accepted - limited }).toEqual({ accepted: MESSAGES_PER_HOUR, limited: 10, other: 0 });
  }, 60_000);
});
