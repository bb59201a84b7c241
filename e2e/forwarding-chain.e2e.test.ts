import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, repoRoot, spawnProcess, type RunningProcess } from "@correo/testkit";
import { freeDnsPort, startDnsmasq, type Dnsmasq } from "../packages/mx/test/dnsmasq.js";
import { srsForward, timestampOf } from "../packages/srs/src/index.js";
import { FakeMx } from "../services/relay-queue/test/fake-mx.js";
import { SmtpWire } from "../services/submission/test/smtp-wire.js";
import { folderOf, sendToMx, storedMessage } from "./mx-transaction.js";
import { startCorreo, type Correo } from "./harness.js";

/**
 * Issue 14 item 6: a forwarding chain through two whole Correos and a real DNS zone.
 *
 *   alice@origin.test (127.0.0.10, the only address origin.test's SPF lists; DMARC p=reject, no DKIM)
 *     → A's MX: list@fwd.test, an alias of bob@final.test; A is fwd.test's MX and its SRS_DOMAIN
 *     → A's relay: MAIL FROM SRS0=…@fwd.test (SPF of fwd.test passes, but does not align with
 *       origin.test: DMARC fails at the next hop), ARC-sealed with fwd.test's DKIM key
 *     → B's MX (final.test, TRUSTED_ARC_SEALERS=fwd.test): the ARC override delivers it.
 *
 * Bounces travel back the same way: B's DSN goes to the SRS address, A's MX decodes it and
 * relays it to alice's MX (a fake MX the test reads, through A's transport for origin.test).
 * Both relays connect from 127.0.0.1, which the zone names mx.fwd.test (forward-confirmed).
 * A forwards what it did not author sealed, never DKIM-signed with a hosted domain's key
 * (corp.test: a forged From: of it must not leave with its signature).
 */
const SENDER_IP = "127.0.0.10";
const SRS_SECRET = "chain-test-secret-1";
const relayPolicy = {
  RELAY_MIN_BACKOFF: "500ms",
  RELAY_MAX_BACKOFF: "1s",
  RELAY_DSN_INTERVAL: "500ms",
  RELAY_CONNECT_TIMEOUT: "2s",
  RELAY_CONNECTION_IDLE: "1s",
  INBOUND_DNS_TIMEOUT: "2s",
};

let a: Correo;
let b: Correo;
/** B started again with other settings (the last test), when it was. */
let bAgain: RunningProcess | undefined;
let dnsmasq: Dnsmasq;
let originMx: FakeMx;

beforeAll(async () => {
  // A generates fwd.test's DKIM key after it starts, and the zone must publish it: both
  // instances are pointed at a DNS port first, and dnsmasq starts there once the key exists.
  const dnsPort = await freeDnsPort();
  const dns = `127.0.0.1:${dnsPort}`;
  a = await startCorreo("e2e-chain-a", {
    ...relayPolicy,
    DNS_SERVERS: dns,
    CORREO_HOSTNAME: "mx.fwd.test",
    AUTHSERV_ID: "mx.fwd.test",
    SRS_SECRETS: SRS_SECRET,
    SRS_DOMAIN: "fwd.test",
  });
  b = await startCorreo("e2e-chain-b", {
    ...relayPolicy,
    DNS_SERVERS: dns,
    CORREO_HOSTNAME: "mx.final.test",
    AUTHSERV_ID: "mx.final.test",
    TRUSTED_ARC_SEALERS: "fwd.test",
    INBOUND_AUTH_POLICY: "enforce",
  });
  await a.cli(["domain", "add", "fwd.test"]);
  const dkim = (await a.cli(["dkim", "generate", "fwd.test"])).record as { name: string; value: string };
  // corp.test: another domain A hosts and signs for (its key published), without DMARC.
  await a.cli(["domain", "add", "corp.test"]);
  const corpKey = (await a.cli(["dkim", "generate", "corp.test"])).record as { name: string; value: string };
  await a.cli(["alias", "add", "list@fwd.test", "bob@final.test"]);
  await a.cli(["alias", "add", "old-list@fwd.test", "gone@final.test"]);
  await a.cli(["transport", "add", "final.test", `127.0.0.1:${b.env.SMTP_MX_PORT}`]);
  originMx = new FakeMx();
  const originPort = await freePort();
  await originMx.listen(originPort);
  await a.cli(["transport", "add", "origin.test", `127.0.0.1:${originPort}`]);

  await b.cli(["domain", "add", "final.test"]);
  await b.cli(["account", "add", "bob@final.test", "--password", "long enough pass"]);
  // gone@final.test is accepted at RCPT (an alias) and bounced by routing: its target is disabled.
  await b.cli(["account", "add", "left@final.test", "--password", "long enough pass"]);
  await b.cli(["account", "disable", "left@final.test"]);
  await b.cli(["alias", "add", "gone@final.test", "left@final.test"]);
  await b.cli(["transport", "add", "fwd.test", `127.0.0.1:${a.env.SMTP_MX_PORT}`]);

  dnsmasq = await startDnsmasq(
    {
      a: { "mail.origin.test": [SENDER_IP], "mx.fwd.test": ["127.0.0.1"], "mx.final.test": ["127.0.0.1"], "mx.origin.test": ["127.0.0.1"] },
      ptr: { [SENDER_IP]: "mail.origin.test", "127.0.0.1": "mx.fwd.test" },
      mx: { "origin.test": [["mx.origin.test", 10]], "fwd.test": [["mx.fwd.test", 10]], "final.test": [["mx.final.test", 10]] },
      txt: {
        "origin.test": [`v=spf1 ip4:${SENDER_IP} -all`],
        "_dmarc.origin.test": ["v=DMARC1; p=reject"],
        "fwd.test": ["v=spf1 ip4:127.0.0.1 -all"],
        [dkim.name.replace(/\.$/, "")]: [dkim.value],
        [corpKey.name.replace(/\.$/, "")]: [corpKey.value],
      },
    },
    { port: dnsPort },
  );
}, 300_000);

afterAll(async () => {
  await bAgain?.stop(15_000);
  await a?.stop();
  await b?.stop();
  await originMx?.close();
  await dnsmasq?.stop();
});

function fromAlice(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: Alice <alice@origin.test>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nDate: Wed, 02 Dec 2026 14:00:00 +0000\r\n` +
      `Message-ID: <${Math.random().toString(36).slice(2)}@origin.test>\r\n\r\nForwarded twice over.\r\n`,
  );
}

const sendFromAlice = (to: string, subject: string) =>
  sendToMx(a, fromAlice(to, subject), { from: "alice@origin.test", to: [to], ip: SENDER_IP, helo: "mail.origin.test" });

const unfold = (raw: string) => raw.split("\r\n\r\n")[0]!.replace(/\r\n[ \t]+/g, " ").split("\r\n");

/** The message B stored for `recipient` with `subject`, once B has it. */
async function storedAtB(recipient: string, subject: string): Promise<string> {
  return eventually(
    async () => {
      const { rows } = await b.infra.pool.query<{ id: string }>(
        `SELECT m.id FROM messages m JOIN deliveries d ON d.message_id = m.id JOIN blobs x ON x.id = m.blob_id
          WHERE d.recipient = $1 AND position($2 in convert_from(x.content, 'UTF8')) > 0`,
        [recipient, `Subject: ${subject}\r\n`],
      );
      return rows[0]?.id;
    },
    30_000,
    `"${subject}" at B for ${recipient}`,
  );
}

/** RCPT TO at A's MX as a bouncing server sends it (MAIL FROM:<>); the reply. */
async function rcptAtA(address: string): Promise<string> {
  const wire = await SmtpWire.open(Number(a.env.SMTP_MX_PORT), false, "127.0.0.1");
  try {
    await wire.reply();
    await wire.command("EHLO mx.final.test");
    expect(await wire.command("MAIL FROM:<>")).toMatch(/^250/);
    return await wire.command(`RCPT TO:<${address}>`);
  } finally {
    wire.close();
  }
}

/** The DSN the origin's MX got for a message with `subject`. */
const dsnAtOrigin = (subject: string) =>
  eventually(async () => originMx.for("alice@origin.test").find((m) => m.raw.includes(`Subject: ${subject}`)), 40_000, `DSN for "${subject}" at origin.test's MX`);

describe("a forwarding chain through two Correos (SRS, ARC)", () => {
  it("delivers alice@origin.test's message for list@fwd.test to bob@final.test's INBOX at B: SPF of the SRS sender, dmarc=fail, arc=pass by fwd.test's seal", async () => {
    const sent = await sendFromAlice("list@fwd.test", "Through the list");
    expect(sent.ok).toBe(true);
    // A relays with an SRS envelope sender of its own.
    const srsSender = await eventually(async () => {
      const { rows } = await a.infra.pool.query("SELECT envelope_from FROM deliveries WHERE message_id = $1 AND recipient = 'bob@final.test'", [(sent as { id: string }).id]);
      return rows[0]?.envelope_from as string | undefined;
    }, 20_000, "A's delivery to bob@final.test");
    expect(srsSender).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin\.test=alice@fwd\.test$/);

    const id = await storedAtB("bob@final.test", "Through the list");
    expect(await folderOf(b, id, "bob@final.test")).toMatchObject({ name: "INBOX" });
    const m = await storedMessage(b, id);
    const header = unfold(m.raw);
    const ours = header.filter((l) => /^Authentication-Results: mx\.final\.test;/.test(l));
    expect(ours).toHaveLength(1);
    // RFC 7208: SPF is checked for MAIL FROM, now fwd.test's; RFC 7489 §3.1.2: not aligned with From: origin.test.
    // (mailauth writes the address as a quoted-string, RFC 8601 §2.3's `value`: "=" is a tspecial.)
    expect(ours[0]).toMatch(/spf=pass .*smtp\.mailfrom="?SRS0=[^ ;"]+=origin\.test=alice@fwd\.test"? /);
    expect(ours[0]).toMatch(/dmarc=fail /);
    // RFC 8617 §7.2: the chain passes and its sealer is trusted, so the failure is overridden.
    expect(ours[0]).toMatch(/arc=pass/);
    expect(ours[0]).toMatch(/policy\.arc-override=fwd\.test/);
    expect(m.quarantine).toBe(false);
    expect(m.detail).toMatch(/dmarc=fail\(arc-override\) arc=pass/);
    // A's ARC set, instance 1 (RFC 8617 §4.2.1), repeating A's results: DMARC passed there.
    expect(header.some((l) => /^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none; d=fwd\.test; s=correo;/.test(l))).toBe(true);
    expect(header.some((l) => /^ARC-Message-Signature: i=1; .*d=fwd\.test/.test(l))).toBe(true);
    expect(header.find((l) => l.startsWith("ARC-Authentication-Results:"))).toMatch(/^ARC-Authentication-Results: i=1; mx\.fwd\.test; .*spf=pass .*smtp\.mailfrom=alice@origin\.test.*dmarc=pass/);
    expect(header.some((l) => /^ARC-Seal: i=2/.test(l))).toBe(false);
  });

  it("returns B's later bounce through the SRS address: A's MX decodes it and relays the null-sender DSN to alice@origin.test", async () => {
    const sent = await sendFromAlice("old-list@fwd.test", "To a closed mailbox");
    expect(sent.ok).toBe(true);
    // B accepted it (gone@final.test is an alias) and its routing bounced it 5.2.1.
    await storedAtB("gone@final.test", "To a closed mailbox");
    const dsn = await dsnAtOrigin("To a closed mailbox");
    expect(dsn.from).toBe(""); // RFC 3464 §2 / RFC 5321 §4.5.5: a DSN is sent from <>
    expect(dsn.to).toEqual(["alice@origin.test"]);
    expect(dsn.raw).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
    expect(dsn.raw).toMatch(/Final-Recipient: rfc822; left@final\.test\r\nOriginal-Recipient: rfc822; gone@final\.test\r\nAction: failed\r\nStatus: 5\.2\.1\r\n/);
    expect(dsn.raw).toMatch(/Reporting-MTA: dns; ?mx\.final\.test/);
    // At A it arrived for the SRS address, which its MX reversed to alice's own.
    const atA = await eventually(async () => {
      const { rows } = await a.infra.pool.query(
        `SELECT m.envelope_from, d.recipient, d.state FROM deliveries d JOIN messages m ON m.id = d.message_id
          WHERE m.source = 'smtp' AND m.envelope_from = '' AND d.recipient = 'alice@origin.test'`,
      );
      return rows[0]?.state === "delivered" ? rows : undefined;
    }, 20_000, "A's relay of the DSN delivered");
    expect(atA).toEqual([{ envelope_from: "", recipient: "alice@origin.test", state: "delivered" }]);
  });

  it("refuses a forged or an expired SRS address at A's MX with 550 5.7.1", async () => {
    const now = new Date();
    const forged = `SRS0=AAAA=${timestampOf(now)}=origin.test=alice@fwd.test`;
    expect(await rcptAtA(forged)).toMatch(/^550 5\.7\.1 .*forged SRS address refused: its hash was not made with this server's secrets/);
    const old = srsForward("alice@origin.test", { secrets: [SRS_SECRET], domain: "fwd.test" }, new Date(now.getTime() - 30 * 86_400_000));
    expect(old.ok).toBe(true);
    expect(await rcptAtA((old as { address: string }).address)).toMatch(/^550 5\.7\.1 .*expired SRS address refused: it is 30 days old; the limit is 21/);
    // The same secret's address of today is taken: it is the age and the hash that fail, nothing else.
    const fresh = srsForward("alice@origin.test", { secrets: [SRS_SECRET], domain: "fwd.test" }, now);
    expect(await rcptAtA((fresh as { address: string }).address)).toMatch(/^250/);
  });

  it("is counted at A: two SRS rewrites by routing, two seals by the relay, the MX's SRS bounces by outcome", async () => {
    const metrics = async (service: string) => (await fetch(`http://127.0.0.1:${a.ports.ops[service]}/metrics`)).text();
    const value = (text: string, name: string, outcome?: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*${outcome ? `outcome="${outcome}"` : ""}[^}]*\\})? (\\d+)`, "m").exec(text)?.[1]);
    expect(value(await metrics("routing"), "correo_srs_rewrites_total")).toBe(2);
    expect(value(await metrics("relay-queue"), "correo_arc_seals_total", "sealed")).toBe(2);
    expect(value(await metrics("relay-queue"), "correo_arc_seals_total", "no-key")).toBe(0);
    const mx = await metrics("submission");
    // B's DSN and the fresh address of the test before; then one forged, one expired.
    expect(value(mx, "correo_srs_bounces_total", "accepted")).toBe(2);
    expect(value(mx, "correo_srs_bounces_total", "forged")).toBe(1);
    expect(value(mx, "correo_srs_bounces_total", "expired")).toBe(1);
  });
  it("does not DKIM-sign, with a hosted domain's key, mail from outside that claims that domain in From: and is forwarded (only ARC-sealed)", async () => {
    // RFC 6376 §1.1: a signature says the signer takes responsibility for the message; A
    // did not author this one, it only forwards it (RFC 8617 §1: ARC is how a forwarder speaks).
    const raw = Buffer.from(
      "From: The CEO <ceo@corp.test>\r\nTo: <list@fwd.test>\r\nSubject: Wire the money\r\nDate: Wed, 02 Dec 2026 14:00:00 +0000\r\n" +
        "Message-ID: <spoof-1@corp.test>\r\n\r\nUrgent.\r\n",
    );
    const sent = await sendToMx(a, raw, { from: "mallory@elsewhere.test", to: ["list@fwd.test"], ip: "127.0.0.66", helo: "spoof.elsewhere.test" });
    expect(sent.ok).toBe(true);
    const m = await storedMessage(b, await storedAtB("bob@final.test", "Wire the money"));
    const header = unfold(m.raw);
    expect(header.filter((l) => /^DKIM-Signature:/i.test(l))).toEqual([]);
    expect(header.find((l) => /^Authentication-Results: mx\.final\.test;/.test(l))).toMatch(/dkim=none/);
    expect(header.some((l) => /^ARC-Seal: i=1; .*d=fwd\.test/.test(l))).toBe(true);
  });
});

describe("the same chain into a B that does not trust fwd.test's seal", () => {
  beforeAll(async () => {
    // B restarted on the same database and ports with TRUSTED_ARC_SEALERS unset (pnpm start reads it at start).
    await b.start.stop(15_000);
    const env = { ...b.env };
    delete env.TRUSTED_ARC_SEALERS;
    bAgain = spawnProcess("pnpm-start-b", [join(repoRoot, "scripts", "dist", "start.js")], env);
    await eventually(
      async () => {
        if (bAgain!.child.exitCode !== null) throw new Error(`pnpm start exited:\n${bAgain!.output().slice(-4000)}`);
        return bAgain!.output().includes("all five services are ready");
      },
      90_000,
      "B ready again",
    );
  }, 120_000);

  it("is refused 550 5.7.1 at B's DATA, so the seal is what delivered it, and A bounces it to alice@origin.test with that reason", async () => {
    const sent = await sendFromAlice("list@fwd.test", "Untrusted seal");
    expect(sent.ok).toBe(true);
    const id = (sent as { id: string }).id;
    const delivery = await eventually(
      async () => {
        const { rows } = await a.infra.pool.query("SELECT state, last_response FROM deliveries WHERE message_id = $1 AND recipient = 'bob@final.test'", [id]);
        return rows[0]?.state === "bounced" ? rows[0] : undefined;
      },
      30_000,
      "A's delivery to bob@final.test bounced",
    );
    expect(delivery.last_response).toMatch(/^550 5\.7\.1 Message refused: DMARC policy of origin\.test is reject/);
    const dsn = await dsnAtOrigin("Untrusted seal");
    expect(dsn.from).toBe("");
    expect(dsn.raw).toMatch(/Final-Recipient: rfc822; bob@final\.test\r\nOriginal-Recipient: rfc822; list@fwd\.test\r\nAction: failed\r\nStatus: 5\.7\.1\r\n/);
    expect(dsn.raw).toMatch(/Diagnostic-Code: smtp; 550 5\.7\.1 Message refused: DMARC policy of origin\.test is reject/);
    // B stored nothing of it.
    const { rows } = await b.infra.pool.query("SELECT count(*)::int AS n FROM blobs WHERE position('Subject: Untrusted seal' in convert_from(content, 'UTF8')) > 0");
    expect(rows[0].n).toBe(0);
  });
});
