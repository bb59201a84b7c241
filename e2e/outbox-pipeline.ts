import { expect } from "vitest";
import { addAccount, addDomain, createApiKey } from "@correo/directory";
import { freePort, spawnService, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";

/**
 * Submission, routing and mailbox on one isolated infra, with one account
 * (ana@example.test) and an API key: the pipeline the broker-outage suites
 * (broker-alarm, broker-stall) drive while they take the broker away from submission.
 */
export interface OutboxPipeline {
  /** The submission process; set once start() has resolved. */
  readonly submission: RunningProcess;
  /** Starts the three services with `env`; submission also gets `submissionEnv`. */
  start(env: Record<string, string>, submissionEnv?: Record<string, string>): Promise<void>;
  /** POSTs message `i` to ana@example.test, expects 202 and returns its id. */
  send(i: number): Promise<string>;
  delivered(): Promise<number>;
  inOutbox(): Promise<number>;
  /** The message ids of every delivery that reached a mailbox. */
  inMailboxes(): Promise<string[]>;
  /** Stops every service started so far (also after a failed start()). */
  stop(): Promise<void>;
}

export function outboxPipeline(infra: IsolatedInfra, subject: string): OutboxPipeline {
  const running: RunningProcess[] = [];
  let submission: RunningProcess | undefined;
  let httpPort = 0;
  let token = "";

  const count = async (sql: string): Promise<number> => {
    const { rows } = await infra.pool.query<{ n: number }>(sql);
    return rows[0]!.n;
  };

  return {
    get submission() {
      if (!submission) throw new Error("outboxPipeline: submission not started");
      return submission;
    },
    async start(env, submissionEnv = {}) {
      httpPort = await freePort();
      const start = async (name: string, extra: Record<string, string>) => {
        const ops = await freePort();
        const proc = spawnService(name, { ...env, ...extra, OPS_PORT: String(ops) });
        running.push(proc);
        await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 30_000, proc);
        return proc;
      };
      await addDomain(infra.pool, "example.test");
      await addAccount(infra.pool, "ana@example.test", "correct horse");
      token = (await createApiKey(infra.pool, "example.test")).token;
      submission = await start("submission", {
        ...submissionEnv,
        SUBMISSION_HTTP_PORT: String(httpPort),
        SMTP_MX_PORT: String(await freePort()),
        SMTP_SUBMISSION_PORT: String(await freePort()),
        SMTPS_PORT: String(await freePort()),
      });
      await start("routing", {});
      await start("mailbox", {});
    },
    async send(i) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ from: "sender@example.test", to: "ana@example.test", subject: `${subject} ${i}`, text: `message ${i}` }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    },
    delivered: () => count("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered'"),
    inOutbox: () => count("SELECT count(*)::int AS n FROM outbox"),
    async inMailboxes() {
      const { rows } = await infra.pool.query<{ message_id: string }>(
        "SELECT DISTINCT d.message_id FROM deliveries d JOIN mailbox_messages mm ON mm.delivery_id = d.id",
      );
      return rows.map((r) => r.message_id);
    },
    async stop() {
      await Promise.all(running.map((p) => p.stop()));
    },
  };
}
