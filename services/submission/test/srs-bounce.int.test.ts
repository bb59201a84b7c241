import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDomain } from "@correo/directory";
import { srsForward, type SrsOptions } from "@correo/srs";
import { eventually, isolatedInfra, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { SmtpWire } from "./smtp-wire.js";
import { spawnSubmission, submissionPorts } from "./submission-process.js";

/**
 * Issue 14 item 3, the way back: a bounce to an SRS address of SRS_DOMAIN comes to the MX
 * (the submission service as `pnpm start` runs it, real smtp-server listener) and goes to
 * the original sender when its hash and age hold; a forged or expired one is refused at
 * RCPT TO with 550 5.7.1 and the reason.
 */
let infra: IsolatedInfra;
let service: RunningProcess;
const ports = submissionPorts();
const srs: SrsOptions = { secrets: ["new-secret", "old-secret"], domain: "hosted.test" };
const DAY = 86_400_000;

function srsAddress(sender: string, at = new Date(), secret = srs.secrets[0]!): string {
  const r = srsForward(sender, { ...srs, secrets: [secret] }, at);
  if (!r.ok) throw new Error(r.detail);
  return r.address;
}

/** A null-sender bounce (RFC 5321 §4.5.5) over a raw socket; the replies to RCPT and to the end of DATA. */
async function bounce(rcpt: string): Promise<{ rcpt: string; data?: string }> {
  const wire = await SmtpWire.open(ports.mx);
  try {
    await wire.reply();
    await wire.command("EHLO mx.partner.test");
    await wire.command("MAIL FROM:<>");
    const rcptReply = await wire.command(`RCPT TO:<${rcpt}>`);
    if (!rcptReply.startsWith("250")) return { rcpt: rcptReply };
    await wire.command("DATA");
    const data = await wire.command("From: MAILER-DAEMON@partner.test\r\nSubject: Undelivered Mail\r\n\r\nNo such user.\r\n.");
    return { rcpt: rcptReply, data };
  } finally {
    await wire.command("QUIT").catch(() => "");
  }
}

async function deliveriesOf(messageId: string) {
  const { rows } = await infra.pool.query<{ recipient: string; original_recipient: string | null; envelope_from: string }>(
    "SELECT d.recipient, d.original_recipient, m.envelope_from FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.id = $1",
    [messageId],
  );
  return rows;
}

beforeAll(async () => {
  infra = await isolatedInfra("submission-srs");
  await addDomain(infra.pool, "hosted.test");
  service = await spawnSubmission(infra, ports, { SRS_SECRETS: srs.secrets.join(","), SRS_DOMAIN: srs.domain });
  await waitForHttp(`http://127.0.0.1:${ports.ops}/healthz`, 30_000, service);
  await eventually(async () => service.output().includes("SMTP listeners up"), 30_000, "SMTP listeners up");
});
afterAll(async () => {
  await service?.stop();
  await infra?.cleanup();
});

describe("bounces to SRS addresses at the MX", () => {
  it("accepts a bounce to a valid SRS0 address and delivers it to the original sender, ORCPT naming the SRS address", async () => {
    const address = srsAddress("Eva@Origin.test");
    const { rcpt, data } = await bounce(address);
    expect(rcpt).toBe("250 2.1.5 Accepted");
    const id = /queued as ([0-9a-f-]{36})/.exec(data ?? "")?.[1];
    expect(await deliveriesOf(id!)).toEqual([{ recipient: "Eva@Origin.test", original_recipient: `rfc822;${address}`, envelope_from: "" }]);
  });

  it("accepts an address signed with a secret rotated out of first place, and one folded to lower case", async () => {
    expect((await bounce(srsAddress("eva@origin.test", new Date(), "old-secret"))).rcpt).toBe("250 2.1.5 Accepted");
    expect((await bounce(srsAddress("eva@origin.test").toLowerCase())).rcpt).toBe("250 2.1.5 Accepted");
  });

  it("accepts an SRS address longer than 64 octets: the hash vouches for it (RFC 5321 §4.5.3.1)", async () => {
    const address = srsAddress("a.rather.long.local.part.of.someone@a-long-subdomain.origin-domain.test");
    expect(address.split("@")[0]!.length).toBeGreaterThan(64);
    expect((await bounce(address)).rcpt).toBe("250 2.1.5 Accepted");
  });

  it("refuses a forged SRS address with 550 5.7.1 and says why", async () => {
    const address = srsAddress("eva@origin.test", new Date(), "somebody-elses-secret");
    expect((await bounce(address)).rcpt).toBe(`550 5.7.1 <${address}>: forged SRS address refused: its hash was not made with this server's secrets`);
  });

  it("refuses an SRS address older than SRS_MAX_AGE (21 days) with 550 5.7.1", async () => {
    const address = srsAddress("eva@origin.test", new Date(Date.now() - 30 * DAY));
    expect((await bounce(address)).rcpt).toBe(`550 5.7.1 <${address}>: expired SRS address refused: it is 30 days old; the limit is 21`);
  });

  it("refuses a malformed SRS address with 550 5.1.1", async () => {
    expect((await bounce("SRS0=abcd=1=origin.test=eva@hosted.test")).rcpt).toBe(
      '550 5.1.1 <SRS0=abcd=1=origin.test=eva@hosted.test>: malformed SRS address refused: it has the timestamp "1", not two base32 characters',
    );
  });

  it("leaves other addresses of the SRS domain to the directory", async () => {
    expect((await bounce("nobody@hosted.test")).rcpt).toBe("550 5.1.1 <nobody@hosted.test>: recipient address rejected: user unknown");
  });
});
