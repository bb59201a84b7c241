import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, isolatedInfra, spawnService, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";

/**
 * DESIGN: any count a copy holds expires when the copy dies. The per-address SMTP
 * connection limit is kept in Redis as leases that the copy renews; a submission copy
 * SIGKILLed while it holds the address's every connection must not lock the address
 * out: a new copy accepts a connection from it within the lease TTL, and the limit
 * still holds for the connections that are live.
 */
const LIMIT = 5;
let infra: IsolatedInfra;
let env: Record<string, string>;
let mxPort: number;
const procs: RunningProcess[] = [];

async function startCopy(): Promise<RunningProcess> {
  const ops = await freePort();
  const proc = spawnService("submission", { ...env, OPS_PORT: String(ops) });
  procs.push(proc);
  await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 30_000, proc);
  return proc;
}

/** Opens an MX connection and reads its first reply (220 greeting or 421). */
function greet(): Promise<{ socket: Socket; reply: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: mxPort });
    let data = "";
    socket.on("data", (d) => {
      data += d.toString();
      if (data.includes("\r\n")) resolve({ socket, reply: data.split("\r\n")[0]! });
    });
    socket.on("error", reject);
    socket.on("close", () => resolve({ socket, reply: data.split("\r\n")[0] ?? "" }));
  });
}

beforeAll(async () => {
  infra = await isolatedInfra("smtp-leases");
  mxPort = await freePort();
  env = {
    ...infra.env,
    SUBMISSION_HTTP_PORT: String(await freePort()),
    SMTP_MX_PORT: String(mxPort),
    SMTP_SUBMISSION_PORT: String(await freePort()),
    SMTPS_PORT: String(await freePort()),
    SMTP_MAX_CONNECTIONS_PER_IP: String(LIMIT),
    SMTP_CONNECTION_LEASE: "3s",
    LOG_LEVEL: "warn",
  };
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await infra?.cleanup();
});

describe("SMTP connection leases", () => {
  it("a copy killed with -9 while holding every connection of an address does not lock it out", async () => {
    const first = await startCopy();
    const held: Socket[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const { socket, reply } = await greet();
      expect(reply).toMatch(/^220 /);
      held.push(socket);
    }
    const over = await greet();
    expect(over.reply).toMatch(/^421 4\.7\.0 Too many connections/);
    over.socket.destroy();

    await first.kill(); // SIGKILL: no session closes cleanly, nothing is given back
    for (const s of held) s.destroy();
    await startCopy();
    // The dead copy's leases lapse, each within the lease TTL of its last renewal (on a
    // loaded machine not all in the same instant): the address is served again, up to
    // its whole limit.
    const accepted = () =>
      eventually(async () => {
        const g = await greet();
        if (g.reply.startsWith("220 ")) return g;
        g.socket.destroy();
        return undefined;
      }, 30_000, "a connection accepted after the copy that held them died");
    const live: Socket[] = [];
    for (let i = 0; i < LIMIT; i++) live.push((await accepted()).socket);

    // And the limit still holds for live connections, renewed past the lease TTL.
    await new Promise((r) => setTimeout(r, 4000)); // longer than SMTP_CONNECTION_LEASE: only renewal keeps them
    const refused = await greet();
    expect(refused.reply).toMatch(/^421 4\.7\.0 Too many connections/);
    refused.socket.destroy();
    for (const s of live) s.destroy();
  });
});
