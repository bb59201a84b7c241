import type { ServiceName } from "../harness.js";
import type { ChaosContext, Scenario } from "./run.js";

/**
 * The faults of the chaos suite (issue 10). Each runs beside the load and returns when
 * the fault is over; faults are placed by the load's progress (the share of messages
 * settled), not by the clock, so that a short run and a 10 000-message run see the
 * same sequence.
 */
const services: ServiceName[] = ["submission", "routing", "relay-queue", "mailbox", "retrieval"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** kill -9; the supervisor starts it again; waits until it is ready. */
async function killAndWait(ctx: ChaosContext, name: ServiceName): Promise<void> {
  await ctx.correo.kill(name);
  await ctx.correo.waitReady(name, 60_000);
}

function killEach(name: ServiceName, kills: number): Scenario {
  return {
    name: `kill-${name}`,
    fault: `kill -9 of ${name} ${kills} times under load, restarted by the supervisor each time`,
    async run(ctx) {
      for (let k = 1; k <= kills; k++) {
        await ctx.load.reached(k / (kills + 1));
        await killAndWait(ctx, name);
      }
      ctx.note(`${name} killed ${kills} times`);
    },
  };
}

const killRandom: Scenario = {
  name: "kill-random",
  fault: "kill -9 of a random service every 2 s while the load runs",
  async run(ctx) {
    await ctx.load.reached(0.05);
    const killed: Record<string, number> = {};
    let done = false;
    void ctx.load.reached(0.9).then(() => (done = true));
    while (!done) {
      const name = services[Math.floor(Math.random() * services.length)]!;
      killed[name] = (killed[name] ?? 0) + 1;
      await ctx.correo.kill(name);
      await sleep(2000);
    }
    ctx.note(`killed: ${Object.entries(killed).map(([s, n]) => `${s} ×${n}`).join(", ")}`);
  },
};

/**
 * At 30 % of the load: takes the broker away (`away`), waits `ms`, and brings it back
 * (`back`, also when `away` fails); the load marks that span. Returns when it began.
 */
async function brokerOutage(ctx: ChaosContext, away: () => Promise<void>, ms: number, back: () => Promise<void>): Promise<number> {
  await ctx.load.reached(0.3);
  ctx.load.mark(true);
  const t0 = Date.now();
  try {
    await away();
    await sleep(ms);
  } finally {
    await back();
    ctx.load.mark(false);
  }
  return t0;
}

const rabbitRestart: Scenario = {
  name: "rabbitmq-restart",
  fault: "RabbitMQ node stopped (rabbitmqctl stop) for 5 s and started again",
  brokerOnly: true,
  async run(ctx) {
    const t0 = await brokerOutage(ctx, () => ctx.servers.stopRabbit(), 5000, () => ctx.servers.startRabbit());
    ctx.note(`broker away for ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
};

function pgRestart(mode: "fast" | "immediate"): Scenario {
  return {
    name: `postgres-restart-${mode}`,
    fault: `PostgreSQL pg_ctl restart -m ${mode}, twice under load`,
    async run(ctx) {
      for (const at of [0.25, 0.6]) {
        await ctx.load.reached(at);
        const t0 = Date.now();
        await ctx.servers.restartPostgres(mode);
        ctx.note(`restart -m ${mode} at ${Math.round(at * 100)} %: ${Date.now() - t0} ms`);
      }
    },
  };
}

async function deferredCount(ctx: ChaosContext): Promise<number> {
  const { rows } = await ctx.correo.infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE state = 'deferred' AND route = 'remote'");
  return rows[0]!.n;
}

const redisFlush: Scenario = {
  name: "redis-flushall",
  fault: "Redis FLUSHALL (twice) while remote deliveries wait deferred in the retry schedule",
  remoteShare: 0.9,
  // Deferred deliveries wait long enough in the schedule for the flush to wipe them.
  env: { RELAY_MIN_BACKOFF: "8s", RELAY_MAX_BACKOFF: "15s" },
  async run(ctx) {
    for (const at of [0.5, 1]) {
      await ctx.load.reached(at);
      const want = Math.max(5, Math.round(ctx.size * 0.05));
      const until = Date.now() + 30_000;
      let n = await deferredCount(ctx);
      while (n < want && Date.now() < until) {
        await sleep(250);
        n = await deferredCount(ctx);
      }
      await ctx.servers.flushRedis();
      ctx.note(`FLUSHALL with ${n} remote deliveries deferred`);
    }
  },
};

const memoryAlarm: Scenario = {
  name: "memory-alarm",
  fault: "RabbitMQ memory alarm (vm_memory_high_watermark 0) for 15 s, then back to 0.4",
  brokerOnly: true,
  async run(ctx) {
    await brokerOutage(ctx, () => ctx.servers.setMemoryWatermark(0), 15_000, () => ctx.servers.setMemoryWatermark(0.4));
  },
};

const relayKillAtReply: Scenario = {
  name: "relay-kill-at-reply",
  fault: "relay-queue killed -9 just before and just after the remote MX's final 250",
  remoteShare: 1,
  async run(ctx) {
    const kills = Math.max(6, Math.round(ctx.size / 300) * 3);
    let done = 0;
    let busy = false;
    let lastStart = 0;
    const sink = ctx.sink;
    const relay = () => ctx.correo.process("relay-queue");
    const due = () => !busy && done < kills && Date.now() - lastStart > 1500;
    const kill = () => {
      busy = true;
      done++;
      // The signal is sent synchronously, before the sink writes (or right after it wrote) its reply.
      void ctx.correo.kill("relay-queue").then(async () => {
        await ctx.correo.waitReady("relay-queue", 60_000).catch(() => undefined);
        lastStart = Date.now();
        busy = false;
      });
    };
    await ctx.load.reached(0.1);
    lastStart = Date.now();
    let before = 0;
    let after = 0;
    sink.beforeReply = async () => {
      if (due() && done % 2 === 0 && relay().child.exitCode === null) {
        before++;
        kill();
        await sleep(50);
      }
    };
    sink.afterReply = () => {
      if (due() && done % 2 === 1 && relay().child.exitCode === null) {
        after++;
        kill();
      }
    };
    let loadDone = false;
    void ctx.load.reached(1).then(() => (loadDone = true));
    const until = () => done >= kills || loadDone;
    while (!until()) await sleep(200);
    sink.beforeReply = undefined;
    sink.afterReply = undefined;
    while (busy) await sleep(100);
    ctx.note(`relay-queue killed ${before} times just before a 250 and ${after} times just after one`);
  },
};

const diskFull: Scenario = {
  name: "postgres-disk-full",
  fault: "the database's tablespace (a small tmpfs) filled up for 10 s, then freed",
  // Room for the run's own messages (about 20 kB each, with indexes and events) besides the filler.
  tablespaceMb: (size) => 48 + Math.ceil(size / 50),
  async run(ctx) {
    await ctx.load.reached(0.3);
    const pool = ctx.correo.infra.pool;
    await pool.query("CREATE TABLE chaos_filler (pad text)");
    try {
      await pool.query("ALTER TABLE chaos_filler ALTER pad SET STORAGE PLAIN");
      let full = false;
      let rows = 0;
      while (!full) {
        try {
          // One 7 kB row per page, uncompressed: the file grows by 8 MB per statement.
          await pool.query("INSERT INTO chaos_filler SELECT repeat('x', 7000) FROM generate_series(1, 1000)");
          rows += 1000;
        } catch (err) {
          if ((err as { code?: string }).code !== "53100") throw err;
          full = true;
        }
      }
      // Fill the last pages with single rows.
      for (let i = 0; i < 200; i++) {
        try {
          await pool.query("INSERT INTO chaos_filler VALUES (repeat('x', 7000))");
        } catch {
          break;
        }
      }
      ctx.note(`tablespace full after ${rows} filler rows`);
      await sleep(10_000);
    } finally {
      await pool.query("DROP TABLE chaos_filler");
      ctx.note("filler dropped: space free again");
    }
  },
};

export const scenarios: Scenario[] = [
  killEach("submission", 9),
  killEach("routing", 4),
  killEach("relay-queue", 4),
  killEach("mailbox", 4),
  killEach("retrieval", 4),
  killRandom,
  rabbitRestart,
  pgRestart("fast"),
  pgRestart("immediate"),
  redisFlush,
  memoryAlarm,
  relayKillAtReply,
  diskFull,
];
