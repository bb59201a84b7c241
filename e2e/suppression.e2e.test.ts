import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort } from "@correo/testkit";
import { FakeMx } from "../services/relay-queue/test/fake-mx.js";
import { SmtpSink } from "../services/relay-queue/test/smtp-sink.js";
import { startCorreo, type Correo } from "./harness.js";

const run = promisify(execFile);

/**
 * Issue 15 with the whole of Correo running as `pnpm start` runs it: a real SMTP peer's
 * 550 5.1.1 puts an address on the suppression list and the next send's 202 says
 * `suppressed` (a 451 and a 5.7.1 do not); an ARF report sent to the MX listener with
 * swaks lists a complaint; a test-mode key's mail to a live smtp-sink never reaches it.
 */
let correo: Correo;
let token: string;
let testToken: string;
let mx: FakeMx;
let sink: SmtpSink;
const tmp = mkdtempSync(join(tmpdir(), "correo-arf-"));

beforeAll(async () => {
  correo = await startCorreo("e2e-suppress", { COMPLAINTS_ADDRESS: "fbl@hosted.test", RELAY_MIN_BACKOFF: "1h" });
  await correo.cli(["domain", "add", "hosted.test"]);
  await correo.cli(["account", "add", "fbl@hosted.test", "--password-stdin"], "fbl-secret-1\n");
  await correo.cli(["account", "add", "ana@hosted.test", "--password-stdin"], "ana-secret-1\n");
  token = (await correo.cli(["apikey", "create", "--domain", "hosted.test"])).api_key.token;
  testToken = (await correo.cli(["apikey", "create", "--domain", "hosted.test", "--test"])).api_key.token;
  mx = new FakeMx();
  const mxPort = await freePort();
  await mx.listen(mxPort);
  mx.replies.set("gone@peer.test", 550); // 550 5.1.1 no such user here
  mx.replies.set("busy@peer.test", 451); // 451 4.3.0 mailbox busy
  mx.replies.set("policy@peer.test", 550);
  mx.texts.set("policy@peer.test", "5.7.1 message refused by policy");
  await correo.cli(["transport", "add", "peer.test", `127.0.0.1:${mxPort}`]);
  sink = new SmtpSink(await freePort());
  await sink.start();
  await correo.cli(["transport", "add", "sink.test", `127.0.0.1:${sink.port}`]);
});

afterAll(async () => {
  await correo?.stop();
  await mx?.close();
  await sink?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function send(to: string[], key = token): Promise<{ id: string; message_id: string; recipients: { address: string; delivery_id: string; status: string }[] }> {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "ana@hosted.test", to, subject: "suppression e2e", text: "hello\r\n" }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as any;
}

async function stateOf(deliveryId: string): Promise<string> {
  const { rows } = await correo.infra.pool.query("SELECT state FROM deliveries WHERE id = $1", [deliveryId]);
  return rows[0]?.state;
}

async function listed(address: string): Promise<any[]> {
  return (await correo.cli(["suppression", "list", "--domain", "hosted.test"])).data.filter((e: any) => e.address === address);
}

describe("hard bounces from a real SMTP peer", () => {
  it("list the address after 550 5.1.1, and the next message's 202 says suppressed", async () => {
    const first = await send(["gone@peer.test", "busy@peer.test", "policy@peer.test"]);
    const [gone, busy, policy] = first.recipients.map((r) => r.delivery_id);
    await eventually(async () => (await stateOf(gone!)) === "bounced" && (await stateOf(policy!)) === "bounced" && (await stateOf(busy!)) === "deferred", 30_000, "attempted");
    expect(await listed("gone@peer.test")).toEqual([expect.objectContaining({ reason: "hard-bounce", message_id: first.id, detail: expect.stringMatching(/^550 5\.1\.1 /) })]);
    expect(await listed("busy@peer.test")).toEqual([]);
    expect(await listed("policy@peer.test")).toEqual([]);

    const before = mx.for("gone@peer.test").length;
    const second = await send(["gone@peer.test", "policy@peer.test"]);
    expect(second.recipients.map((r) => [r.address, r.status])).toEqual([
      ["gone@peer.test", "suppressed"],
      ["policy@peer.test", "queued"],
    ]);
    await eventually(async () => (await stateOf(second.recipients[1]!.delivery_id)) === "bounced", 30_000, "policy@ attempted again");
    expect(await stateOf(second.recipients[0]!.delivery_id)).toBe("suppressed");
    expect(mx.for("gone@peer.test").length).toBe(before);
  });
});

describe("SMTP submission", () => {
  it("answers 250 for a message to a suppressed address and records that recipient suppressed on the timeline (Python's smtplib, STARTTLS + AUTH)", async () => {
    // Python's smtplib as a mail client: STARTTLS (the local certificate is self-signed), AUTH,
    // then the transaction step by step, printing each reply.
    const script = [
      "import smtplib, ssl, sys",
      "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
      "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)",
      "s.starttls(context=ctx)",
      "s.login('ana@hosted.test', 'ana-secret-1')",
      "print(s.mail('ana@hosted.test')[0])",
      "print(s.rcpt('gone@peer.test')[0])",
      "print(s.rcpt('fresh@peer.test')[0])",
      "code, reply = s.data(b'From: ana@hosted.test\\r\\nTo: gone@peer.test, fresh@peer.test\\r\\nSubject: por SMTP\\r\\n\\r\\nhola\\r\\n')",
      "print(code, reply.decode())",
      "s.quit()",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", script, correo.env.SMTP_SUBMISSION_PORT!], { timeout: 30_000 });
    const lines = stdout.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(["250", "250", "250"]);
    expect(lines[3]).toMatch(/^250 2\.6\.0 .*queued as [0-9a-f-]{36}/);
    const info = { response: lines[3]! };
    const id = /queued as ([0-9a-f-]{36})/.exec(info.response)![1];
    const { rows } = await correo.infra.pool.query(
      `SELECT d.recipient, d.state, d.dsn_state, array_agg(e.event ORDER BY e.id) AS events
         FROM deliveries d JOIN delivery_events e ON e.delivery_id = d.id WHERE d.message_id = $1 AND d.recipient = 'gone@peer.test' GROUP BY d.id`,
      [id],
    );
    expect(rows).toEqual([{ recipient: "gone@peer.test", state: "suppressed", dsn_state: "none", events: ["accepted", "suppressed"] }]);
  });
});

describe("complaints", () => {
  it("an ARF report sent to the MX listener (swaks) marks the delivery complained and lists the address", async () => {
    const original = await send(["carol@sink.test"]);
    const carol = original.recipients[0]!.delivery_id;
    await eventually(async () => (await stateOf(carol)) === "delivered", 30_000, "delivered to the sink");
    // The report returns the message as the sink got it (Received: … (Correo) … id <id>, Message-ID).
    const got = sink.messages().find((m) => m.rcpt.includes("carol@sink.test"))!.text;
    const returned = got.slice(got.search(/^Received: /m)).replace(/\r?\n/g, "\r\n");
    const report = readFileSync(join(__dirname, "..", "packages", "suppression", "test", "fixtures", "arf-abuse.eml"), "utf8")
      .replace("Original-Rcpt-To: <Carol@Remote.example>", "Original-Rcpt-To: <carol@sink.test>")
      .replace(/(Content-Disposition: inline\r\n\r\n)[\s\S]*(\r\n--part1_13d\.2e68ed54_boundary--)/, (_m, head, tail) => `${head}${returned.trimEnd()}${tail}`);
    const file = join(tmp, "report.eml");
    writeFileSync(file, report);
    const { stdout } = await run("swaks", [
      "--server", `127.0.0.1:${correo.env.SMTP_MX_PORT}`, "--from", "abuse@isp.example", "--to", "fbl@hosted.test", "--data", file,
    ]);
    expect(stdout).toMatch(/250 2\.6\.0 Message accepted/);
    const entry = await eventually(async () => (await listed("carol@sink.test"))[0], 30_000, "complaint listed");
    expect(entry).toMatchObject({ reason: "complaint", message_id: original.id, detail: expect.stringContaining("feedback-type=abuse") });
    const { rows } = await correo.infra.pool.query("SELECT event FROM delivery_events WHERE delivery_id = $1 ORDER BY id", [carol]);
    expect(rows.map((r) => r.event)).toEqual(["accepted", "routed", "delivered", "complained"]);
    expect((await send(["carol@sink.test"])).recipients[0]!.status).toBe("suppressed");
  });
});

describe("test mode", () => {
  it("records a test key's remote message delivered and the live smtp-sink sees nothing", async () => {
    const before = sink.messages().length;
    const sent = await send(["dave@sink.test"], testToken);
    const id = sent.recipients[0]!.delivery_id;
    await eventually(async () => (await stateOf(id)) === "delivered", 30_000, "recorded delivered");
    const status = (await (await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages/${sent.id}`, { headers: { authorization: `Bearer ${testToken}` } })).json()) as any;
    expect(status.test).toBe(true);
    expect(status.recipients[0].last_response).toContain("test mode");
    // A real message sent after it reaches the sink; the test one never does.
    const real = await send(["erin@sink.test"]);
    await eventually(async () => (await stateOf(real.recipients[0]!.delivery_id)) === "delivered", 30_000, "real one delivered");
    const after = sink.messages();
    expect(after.length).toBe(before + 1);
    expect(after.flatMap((m) => m.rcpt)).not.toContain("dave@sink.test");
  });
});
