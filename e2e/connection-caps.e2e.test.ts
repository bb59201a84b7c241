import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, isolatedInfra, spawnService, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";

/**
 * Issue 12: a global cap on connections per process, beside the per-address one. With
 * small caps set by environment (SMTP_MAX_CONNECTIONS, IMAP_MAX_CONNECTIONS,
 * POP3_MAX_CONNECTIONS), cap + 1 raw connections from one address get the protocol's
 * "try again later" refusal, and a slot frees when a connection closes.
 */
const SMTP_CAP = 3;
const IMAP_CAP = 2;
const POP3_CAP = 2;

let infra: IsolatedInfra;
const procs: RunningProcess[] = [];
const ports: Record<string, number> = {};
const open: Socket[] = [];

/** Connects (plain or TLS) and resolves with the first line the server sends, or "" when it closes first. */
function greet(port: number, tls = false): Promise<{ socket: Socket; line: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tls ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }) : connect({ host: "127.0.0.1", port });
    open.push(socket);
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    let data = "";
    socket.on("data", (d: Buffer) => {
      data += d.toString("latin1");
      if (data.includes("\r\n")) resolve({ socket, line: data.split("\r\n")[0]!, closed });
    });
    socket.on("error", reject);
    socket.on("close", () => resolve({ socket, line: data.split("\r\n")[0] ?? "", closed }));
  });
}

async function start(service: "submission" | "retrieval", env: Record<string, string>): Promise<void> {
  const ops = await freePort();
  const proc = spawnService(service, { ...infra.env, ...env, OPS_PORT: String(ops), LOG_LEVEL: "warn" });
  procs.push(proc);
  await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 60_000, proc);
}

beforeAll(async () => {
  infra = await isolatedInfra("connection-caps");
  for (const p of ["SUBMISSION_HTTP_PORT", "SMTP_MX_PORT", "SMTP_SUBMISSION_PORT", "SMTPS_PORT", "RETRIEVAL_HTTP_PORT", "POP3_PORT", "POP3S_PORT", "IMAP_PORT", "IMAPS_PORT"]) {
    ports[p] = await freePort();
  }
  const env = Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
  await start("submission", { ...env, SMTP_MAX_CONNECTIONS: String(SMTP_CAP) });
  await start("retrieval", { ...env, IMAP_MAX_CONNECTIONS: String(IMAP_CAP), POP3_MAX_CONNECTIONS: String(POP3_CAP) });
});

afterAll(async () => {
  for (const s of open) s.destroy();
  await Promise.all(procs.map((p) => p.stop()));
  await infra?.cleanup();
});

describe("global connection caps", () => {
  it("SMTP: the MX listener's cap + 1st connection gets 421 4.3.2 and is closed; a slot frees when one closes", async () => {
    const held = [];
    for (let i = 0; i < SMTP_CAP; i++) {
      const g = await greet(ports.SMTP_MX_PORT!);
      expect(g.line).toMatch(/^220 /);
      held.push(g);
    }
    const over = await greet(ports.SMTP_MX_PORT!);
    expect(over.line).toBe("421 4.3.2 Too many connections, try again later");
    await over.closed;

    // The cap is per listener: the submission port still greets while the MX is full.
    const submission = await greet(ports.SMTP_SUBMISSION_PORT!);
    expect(submission.line).toMatch(/^220 /);
    submission.socket.destroy();

    held[0]!.socket.destroy();
    const back = await eventually(async () => {
      const g = await greet(ports.SMTP_MX_PORT!);
      if (g.line.startsWith("220 ")) return g;
      g.socket.destroy();
      return undefined;
    }, 10_000, "a free SMTP slot");
    expect(back.line).toMatch(/^220 /);
    for (const g of [...held, back]) g.socket.destroy();
  });

  it("POP3: POP3 and POP3S share the cap; the next connection gets -ERR [SYS/TEMP]; a slot frees when one closes", async () => {
    const plain = await greet(ports.POP3_PORT!);
    expect(plain.line).toMatch(/^\+OK /);
    const secure = await greet(ports.POP3S_PORT!, true);
    expect(secure.line).toMatch(/^\+OK /);
    const over = await greet(ports.POP3_PORT!);
    expect(over.line).toBe("-ERR [SYS/TEMP] too many connections, try again later");
    await over.closed;

    secure.socket.destroy();
    const back = await eventually(async () => {
      const g = await greet(ports.POP3_PORT!);
      if (g.line.startsWith("+OK ")) return g;
      g.socket.destroy();
      return undefined;
    }, 10_000, "a free POP3 slot");
    expect(back.line).toMatch(/^\+OK /);
    plain.socket.destroy();
    back.socket.destroy();
  });

  it("IMAP: IMAP and IMAPS share the cap; the next connection gets * BYE [UNAVAILABLE]; a slot frees when one closes", async () => {
    const plain = await greet(ports.IMAP_PORT!);
    expect(plain.line).toMatch(/^\* OK /);
    const secure = await greet(ports.IMAPS_PORT!, true);
    expect(secure.line).toMatch(/^\* OK /);
    const over = await greet(ports.IMAPS_PORT!, true);
    expect(over.line).toBe("* BYE [UNAVAILABLE] too many connections, try again later");
    await over.closed;

    plain.socket.destroy();
    const back = await eventually(async () => {
      const g = await greet(ports.IMAP_PORT!);
      if (g.line.startsWith("* OK ")) return g;
      g.socket.destroy();
      return undefined;
    }, 10_000, "a free IMAP slot");
    expect(back.line).toMatch(/^\* OK /);
    secure.socket.destroy();
    back.socket.destroy();
  });
});
