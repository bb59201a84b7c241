import { addAccount, addDomain, addTransport, createApiKey } from "@correo/directory";
import { freePort } from "@correo/testkit";
import { startSupervisedCorreo, type Crash, type ServiceName, type SupervisedCorreo } from "../harness.js";
import { Load, type LoadResult } from "./load.js";
import type { PrivateServers } from "./servers.js";
import { RemoteSink } from "./sink.js";
import { probeSession } from "./smtp-client.js";

/** What a scenario's fault script gets to work with. */
export interface ChaosContext {
  servers: PrivateServers;
  correo: SupervisedCorreo;
  load: Load;
  sink: RemoteSink;
  /** Messages per scenario of this run (faults may scale with it). */
  size: number;
  note(line: string): void;
}

export interface Scenario {
  name: string;
  /** One line: what is done to the system. */
  fault: string;
  /** Extra environment for the services. */
  env?: Record<string, string>;
  /** Share of remote recipients among submission and HTTP messages (default 0.4). */
  remoteShare?: number;
  /** The database goes in a tablespace this small (MB, for a run of `size` messages), on a tmpfs of its own. */
  tablespaceMb?: (size: number) => number;
  /** Only the broker is impaired: no accept may wait for it (DESIGN: the answer never waits for the broker). */
  brokerOnly?: boolean;
  /** Runs beside the load; resolves when the fault is over. Returns a reason to skip when the machine cannot do it. */
  run(ctx: ChaosContext): Promise<void | { skipped: string }>;
}

export interface ScenarioResult {
  name: string;
  fault: string;
  skipped?: string;
  messages: number;
  accepted: number;
  lost: number;
  lostTokens: string[];
  duplicatedInMailbox: number;
  duplicatedAtRemote: number;
  refused: number;
  gaveUp: number;
  /** Accepted messages that the client sent again and got accepted again (RFC 1047 window). */
  acceptedTwice: number;
  droppedAfterDot: number;
  drainSeconds: number | undefined;
  worstLatencyMs: number;
  /** Worst latency of attempts made while the fault was on (brokerOnly scenarios). */
  worstDuringFaultMs?: number;
  crashes: Crash[];
  notBack: string[];
  lockout: string[];
  wrongReplies: Map<string, number>;
  replies: Map<string, number>;
  channelLatency?: string;
  faultError?: string;
  notes: string[];
  failures: string[];
}

/** The retry policy and sweep intervals of a chaos run: seconds instead of minutes, so that a run drains in minutes. */
const policy: Record<string, string> = {
  LOG_LEVEL: "warn",
  RELAY_MIN_BACKOFF: "1s",
  RELAY_MAX_BACKOFF: "4s",
  RELAY_CONNECT_TIMEOUT: "5s",
  RELAY_CONNECTION_IDLE: "1s",
  RELAY_DSN_INTERVAL: "1s",
  OUTBOX_SWEEP_INTERVAL: "1s",
  REDRIVE_INTERVAL: "2s",
  REDRIVE_AFTER: "20s",
  // The load is one account's: a quota meant for people would refuse it.
  SMTP_MESSAGES_PER_HOUR: "10000000",
};

const HOSTED = "hosted.chaos.test";
const SINK = "sink.chaos.test";

export interface RunOptions {
  size: number;
  /** How long to wait for every accepted message to arrive after the load and the fault. */
  drainTimeoutMs: number;
  log(line: string): void;
}

export async function runScenario(servers: PrivateServers, scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    opts.log(`  ${scenario.name}: ${line}`);
  };
  const sink = new RemoteSink(/ck[0-9a-f]{8}n\d+z/);
  const sinkPort = await freePort();
  await sink.listen(sinkPort);
  let tablespace: string | undefined;
  if (scenario.tablespaceMb) {
    const ts = await servers.smallTablespace(scenario.tablespaceMb(opts.size));
    if ("unavailable" in ts) {
      await sink.close();
      opts.log(`  ${scenario.name}: SKIPPED — ${ts.unavailable}`);
      return emptyResult(scenario, `this machine allows no small file system: ${ts.unavailable}`);
    }
    tablespace = ts.name;
  }
  const local = ["ana", "bea", "cai", "dov"].map((u) => `${u}@${HOSTED}`);
  const submitter = { user: `sender@${HOSTED}`, pass: "chaos-sender-secret" };
  let apiKey = "";
  const phases: string[] = [];
  let phaseAt = Date.now();
  const phase = (name: string) => {
    phases.push(`${name} ${((Date.now() - phaseAt) / 1000).toFixed(1)} s`);
    phaseAt = Date.now();
  };
  let correo: SupervisedCorreo;
  try {
    correo = await startSupervisedCorreo(`chaos-${scenario.name}`, {
      urls: servers.urls,
      tablespace,
      env: { ...policy, ...scenario.env },
      prepare: async (infra) => {
        await addDomain(infra.pool, HOSTED);
        for (const a of local) await addAccount(infra.pool, a, "chaos-reader-secret");
        await addAccount(infra.pool, submitter.user, submitter.pass);
        await addTransport(infra.pool, SINK, "127.0.0.1", sinkPort, { tlsPolicy: "none" });
        apiKey = (await createApiKey(infra.pool, HOSTED)).token;
      },
    });
  } catch (err) {
    await sink.close();
    if (tablespace) await servers.sql(`DROP TABLESPACE IF EXISTS ${tablespace}`).catch(() => undefined);
    throw err;
  }
  const result = emptyResult(scenario);
  try {
    const target = {
      mxPort: Number(correo.env.SMTP_MX_PORT),
      submissionPort: Number(correo.env.SMTP_SUBMISSION_PORT),
      httpPort: correo.ports.http,
      apiKey,
      submitter,
      local,
      remote: ["rhea", "saul", "tove"].map((u) => `${u}@${SINK}`),
      httpFrom: `api@${HOSTED}`,
    };
    const load = new Load(target, {
      total: opts.size,
      remoteShare: scenario.remoteShare ?? 0.4,
      // A short run spreads its messages over ~8 s so that the faults land in the middle of it.
      rate: Math.max(30, opts.size / 8),
      concurrency: { mx: 4, submission: 3, http: 6 },
      giveUpAfterMs: 90_000,
    });
    const ctx: ChaosContext = { servers, correo, load, sink, size: opts.size, note };
    phase("start");
    const loadDone = load.start();
    let skipped: string | undefined;
    const faultDone = scenario.run(ctx).then(
      (r) => {
        if (r && "skipped" in r) skipped = r.skipped;
      },
      (err: Error) => {
        result.faultError = err.message;
      },
    );
    const [loadResult] = await Promise.all([loadDone, faultDone]);
    if (skipped) {
      result.skipped = skipped;
      return result;
    }
    phase("load and fault");

    // Every service must be back: running and ready.
    for (const name of correo.services) {
      await correo.waitReady(name, 60_000).catch(() => result.notBack.push(`${name}: ${correo.process(name).child.exitCode !== null ? "not running" : "/readyz not ready"} 60 s after the fault`));
    }

    // Drain: every accepted message in its mailbox or at the sink.
    const accepted = loadResult.messages.filter((m) => m.acceptedTimes > 0);
    let mailbox = new Map<string, number>();
    const missing = () => accepted.filter((m) => (m.remote ? sink.taken.get(m.token) ?? 0 : mailbox.get(m.token) ?? 0) === 0);
    const drainDeadline = Date.now() + opts.drainTimeoutMs;
    for (;;) {
      mailbox = await mailboxCopies(correo).catch(() => mailbox);
      if (missing().length === 0) {
        result.drainSeconds = (Date.now() - loadResult.endedAt) / 1000;
        break;
      }
      if (Date.now() > drainDeadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    phase("drain");

    // Nobody locked out: a fresh client gets a session on both SMTP listeners.
    const probes = await Promise.all(
      ([
        ["MX", target.mxPort, undefined],
        ["submission", target.submissionPort, submitter],
      ] as const).map(async ([what, port, auth]) => {
        let problem: string | undefined;
        const until = Date.now() + 60_000;
        do {
          problem = await probeSession("127.0.0.1", port, auth);
          if (!problem) break;
          await new Promise((r) => setTimeout(r, 2000));
        } while (Date.now() < until);
        return problem ? `${what}: ${problem} (for 60 s after the load, with no connection open)` : undefined;
      }),
    );
    result.lockout.push(...probes.filter((p): p is string => p !== undefined));
    phase("checks");
    fill(result, loadResult, mailbox, sink, missing().map((m) => m.token), correo.crashes);
    if (result.lost) result.notes.push(`where the lost ones are: ${await whereAre(correo, result.lostTokens).catch((e: Error) => e.message)}`);
    judge(result, scenario);
    return result;
  } finally {
    await correo.stop().catch((err: Error) => opts.log(`  ${scenario.name}: stopping Correo: ${err.message}`));
    await sink.close();
    phase("stop");
    notes.push(`time: ${phases.join(", ")}`);
    if (tablespace) await servers.sql(`DROP TABLESPACE IF EXISTS ${tablespace}`).catch(() => undefined);
    result.notes.push(...notes);
  }
}

/** Token → copies in the mailboxes, from PostgreSQL. */
async function mailboxCopies(correo: SupervisedCorreo): Promise<Map<string, number>> {
  const { rows } = await correo.infra.pool.query<{ token: string; copies: number }>(
    `SELECT substring(m.subject from 'ck[0-9a-f]+n[0-9]+z') AS token, count(*)::int AS copies
       FROM mailbox_messages mm JOIN deliveries d ON d.id = mm.delivery_id JOIN messages m ON m.id = d.message_id
      WHERE m.subject LIKE 'chaos ck%' GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.token, r.copies]));
}

/** The delivery states of messages that did not arrive, summarised ("deferred ×3, next attempt in 14.2 min: 451 …"). */
async function whereAre(correo: SupervisedCorreo, tokens: string[]): Promise<string> {
  const { rows } = await correo.infra.pool.query<{ state: string; n: number; next_min: number | null; last: string | null }>(
    `SELECT d.state, count(*)::int AS n,
            round(max(extract(epoch FROM d.next_attempt_at - now())) / 60, 1)::float AS next_min,
            max(d.last_response) AS last
       FROM deliveries d JOIN messages m ON m.id = d.message_id
      WHERE substring(m.subject from 'ck[0-9a-f]+n[0-9]+z') = ANY($1) GROUP BY d.state`,
    [tokens],
  );
  const found = rows.reduce((n, r) => n + r.n, 0);
  const parts = rows.map((r) => `${r.state} ×${r.n}${r.next_min !== null ? ` (next attempt in up to ${r.next_min} min)` : ""}${r.last ? ` last reply "${r.last.slice(0, 80)}"` : ""}`);
  if (found < tokens.length) parts.push(`${tokens.length - found} not in PostgreSQL at all`);
  return parts.join("; ");
}

function emptyResult(scenario: Scenario, skipped?: string): ScenarioResult {
  return {
    name: scenario.name,
    fault: scenario.fault,
    skipped,
    messages: 0,
    accepted: 0,
    lost: 0,
    lostTokens: [],
    duplicatedInMailbox: 0,
    duplicatedAtRemote: 0,
    refused: 0,
    gaveUp: 0,
    acceptedTwice: 0,
    droppedAfterDot: 0,
    drainSeconds: undefined,
    worstLatencyMs: 0,
    crashes: [],
    notBack: [],
    lockout: [],
    wrongReplies: new Map(),
    replies: new Map(),
    notes: [],
    failures: [],
  };
}

function fill(r: ScenarioResult, load: LoadResult, mailbox: Map<string, number>, sink: RemoteSink, missing: string[], crashes: Crash[]): void {
  r.messages = load.messages.length;
  r.accepted = load.messages.filter((m) => m.acceptedTimes > 0).length;
  r.lost = missing.length;
  r.lostTokens = missing;
  r.duplicatedInMailbox = [...mailbox.values()].filter((n) => n > 1).length;
  r.duplicatedAtRemote = [...sink.taken.values()].filter((n) => n > 1).length;
  r.refused = load.messages.filter((m) => m.final?.kind === "refused").length;
  r.gaveUp = load.messages.filter((m) => m.final?.kind === "gave up").length;
  r.acceptedTwice = load.messages.filter((m) => m.acceptedTimes > 1).length;
  r.droppedAfterDot = load.messages.reduce((n, m) => n + m.droppedAfterDot, 0);
  r.worstLatencyMs = Math.max(0, ...load.messages.map((m) => m.acceptLatencyMs ?? 0));
  r.worstDuringFaultMs = load.marked.attempts ? load.marked.worstMs : undefined;
  r.crashes = [...crashes];
  const unaccepted = (["mx", "submission", "http"] as const)
    .map((ch) => [ch, load.messages.filter((m) => m.channel === ch && m.acceptedTimes === 0).length] as const)
    .filter(([, n]) => n > 0);
  if (unaccepted.length) r.notes.push(`never accepted, by channel: ${unaccepted.map(([ch, n]) => `${ch} ${n}`).join(", ")}`);
  r.channelLatency = (["mx", "submission", "http"] as const)
    .map((ch) => {
      const l = load.messages.filter((m) => m.channel === ch && m.acceptLatencyMs !== undefined).map((m) => m.acceptLatencyMs!);
      return l.length ? `${ch} ${(l.reduce((a, b) => a + b, 0) / l.length / 1000).toFixed(2)} / ${(Math.max(...l) / 1000).toFixed(2)}` : `${ch} —`;
    })
    .join(", ");
  r.wrongReplies = load.wrongReplies;
  r.replies = load.replies;
}

/** The confirm timeout of packages/broker: an accept that took this long waited for RabbitMQ. */
const BROKER_WAIT_MS = 5_000;

function judge(r: ScenarioResult, scenario: Scenario): void {
  const f = r.failures;
  if (r.faultError) f.push(`the fault itself failed: ${r.faultError}`);
  if (r.lost) f.push(`${r.lost} accepted message(s) lost (not delivered ${r.drainSeconds === undefined ? "within the drain timeout" : ""}): ${r.lostTokens.slice(0, 5).join(", ")}${r.lost > 5 ? ", …" : ""}`);
  if (r.duplicatedInMailbox) f.push(`${r.duplicatedInMailbox} message(s) stored twice or more in a mailbox`);
  for (const c of r.crashes) f.push(`${c.service} died on its own (${c.signal ?? `exit ${c.code}`}): ${crashReason(c.tail)}`);
  f.push(...r.notBack);
  for (const l of r.lockout) f.push(`client locked out — ${l}`);
  for (const [reply, n] of r.wrongReplies) f.push(`wrong reply ×${n}: ${reply}`);
  if (r.gaveUp) f.push(`${r.gaveUp} message(s) never accepted: the client gave up retrying`);
  if (scenario.brokerOnly && (r.worstDuringFaultMs ?? 0) >= BROKER_WAIT_MS) {
    f.push(`an accept waited ${(r.worstDuringFaultMs! / 1000).toFixed(1)} s while only the broker was impaired (the answer must not wait for RabbitMQ)`);
  }
}

/** The most telling lines of a crashed service's output: the error, and what emitted it. */
function crashReason(tail: string): string {
  const lines = tail.split("\n").map((l) => l.trim()).filter(Boolean);
  const unhandled = lines.findIndex((l) => l.includes("Unhandled 'error' event"));
  const from = unhandled >= 0 ? unhandled : 0;
  const error = lines.slice(from).find((l) => /^(\w*Error|error)\b[^:]*:/.test(l)) ?? lines.at(-1) ?? "(no output)";
  const emitter = lines.slice(from).find((l) => l.startsWith("Emitted 'error' event"));
  const text = `${unhandled >= 0 ? "unhandled 'error' event: " : ""}${error}${emitter ? ` (${emitter.replace(/ at:$/, "")})` : ""}`;
  return text.replace(/\s+/g, " ").slice(0, 240);
}

export function formatTable(results: ScenarioResult[]): string {
  const head = ["scenario", "accepted", "lost", "dup mailbox", "dup remote", "refused", "drain s", "worst latency s", "verdict"];
  const rows = results.map((r) =>
    r.skipped
      ? [r.name, "—", "—", "—", "—", "—", "—", "—", "skipped"]
      : [
          r.name,
          `${r.accepted}/${r.messages}`,
          String(r.lost),
          String(r.duplicatedInMailbox),
          String(r.duplicatedAtRemote),
          String(r.refused + r.gaveUp),
          r.drainSeconds === undefined ? "timeout" : r.drainSeconds.toFixed(1),
          (r.worstLatencyMs / 1000).toFixed(2),
          r.failures.length ? "FAIL" : "ok",
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function formatDetails(r: ScenarioResult): string {
  const out = [`${r.name} — ${r.fault}`];
  if (r.skipped) return `${out[0]}\n  skipped: ${r.skipped}`;
  out.push(
    `  accepted ${r.accepted}/${r.messages}, lost ${r.lost}, duplicated in a mailbox ${r.duplicatedInMailbox}, at the remote ${r.duplicatedAtRemote}, ` +
      `refused ${r.refused}, never accepted ${r.gaveUp}, accepted twice by the client ${r.acceptedTwice}, dropped after the dot ${r.droppedAfterDot}, ` +
      `drain ${r.drainSeconds === undefined ? "timeout" : `${r.drainSeconds.toFixed(1)} s`}, worst accept ${(r.worstLatencyMs / 1000).toFixed(2)} s` +
      (r.worstDuringFaultMs !== undefined ? `, worst attempt during the fault ${(r.worstDuringFaultMs / 1000).toFixed(2)} s` : ""),
  );
  if (r.channelLatency) out.push(`  accept latency by channel (mean / worst s): ${r.channelLatency}`);
  if (r.replies.size) out.push(`  replies: ${[...r.replies].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
  for (const n of r.notes) out.push(`  · ${n}`);
  for (const f of r.failures) out.push(`  ✗ ${f}`);
  return out.join("\n");
}

export type { ServiceName };
