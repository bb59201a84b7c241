import { beforeEach, describe, expect, it } from "vitest";
import { encodeResponse, responseChunks, type Pop3Response } from "../src/response.js";
import {
  Pop3Session,
  type Maildrop,
  type MaildropMessage,
  type MaildropStore,
  type Pop3Account,
  type Pop3Authenticator,
  type SessionOptions,
} from "../src/index.js";

// --- an in-memory directory and maildrop store -------------------------------------

const ALICE: Pop3Account = { id: 7, address: "alice@example.test" };
const PASSWORD = "correct horse";

const authenticator: Pop3Authenticator = {
  async authenticate(user, password) {
    return user.toLowerCase() === ALICE.address && password === PASSWORD ? ALICE : undefined;
  },
};

class MemoryStore implements MaildropStore {
  readonly locks = new Set<number>();
  readonly stored = new Map<number, Buffer>(); // uid → content
  failExpunge = false;
  failOpen = false;
  expunged: number[] = [];
  listings = 0;

  constructor(
    readonly uidValidity: number,
    contents: string[],
  ) {
    contents.forEach((c, i) => this.stored.set(10 + i * 5, Buffer.from(c)));
  }

  async open(account: Pop3Account): Promise<Maildrop | "in-use"> {
    if (this.failOpen) throw new Error("database is down");
    if (this.locks.has(account.id)) return "in-use";
    this.locks.add(account.id);
    const messages: MaildropMessage[] = [...this.stored].map(([uid, c]) => ({
      uid,
      size: c.length,
      uniqueId: `${this.uidValidity}.${uid}`,
    }));
    let released = false;
    return {
      count: messages.length,
      octets: messages.reduce((sum, m) => sum + m.size, 0),
      list: async () => {
        this.listings++;
        return messages;
      },
      content: async (m) => this.stored.get(m.uid),
      // In 7-octet chunks, so that lines and "." fall across them.
      stream: async (m) => {
        const c = this.stored.get(m.uid);
        if (!c) return undefined;
        return (async function* () {
          for (let i = 0; i < c.length; i += 7) yield c.subarray(i, i + 7);
        })();
      },
      expunge: async (ms) => {
        if (this.failExpunge) throw new Error("database is down");
        for (const m of ms) {
          this.stored.delete(m.uid);
          this.expunged.push(m.uid);
        }
      },
      release: async () => {
        if (released) throw new Error("released twice");
        released = true;
        this.locks.delete(account.id);
      },
    };
  }
}

const MSG1 = "From: bob@example.test\r\nSubject: one\r\n\r\nHello\r\n.hidden dot\r\n";
const MSG2 = "From: carol@example.test\r\nSubject: two\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";
const MSG3 = "Subject: three\r\n\r\nbye\r\n";

/** The response as the client sees it on the wire. */
const wire = (r: Pop3Response) => encodeResponse(r).toString("utf8");
/** The same for a streamed response (RETR). */
async function streamed(r: Pop3Response): Promise<string> {
  const out: Buffer[] = [];
  for await (const octets of responseChunks(r)) out.push(octets);
  return Buffer.concat(out).toString("utf8");
}

let store: MemoryStore;
let delays: number;
let authFailures: string[];
let commands: string[];

function newSession(overrides: Partial<SessionOptions> = {}): Pop3Session {
  return new Pop3Session({
    hostname: "pop.example.test",
    authenticator,
    store,
    delayAfterAuthFailure: async () => void delays++,
    observer: { authFailed: (u) => authFailures.push(u), command: (c) => commands.push(c) },
    ...overrides,
  });
}

async function loggedIn(): Promise<Pop3Session> {
  const s = newSession();
  expect((await s.handleLine(`USER ${ALICE.address}`)).ok).toBe(true);
  expect((await s.handleLine(`PASS ${PASSWORD}`)).ok).toBe(true);
  return s;
}

beforeEach(() => {
  store = new MemoryStore(1700000000, [MSG1, MSG2, MSG3]);
  delays = 0;
  authFailures = [];
  commands = [];
});

describe("POP3 session: AUTHORIZATION state (RFC 1939 §4, §7)", () => {
  it("greets with +OK and the host name", () => {
    expect(wire(newSession().greeting())).toBe("+OK pop.example.test Correo POP3 ready\r\n");
  });

  it("logs in with USER and PASS, locks the maildrop and enters TRANSACTION", async () => {
    const s = newSession();
    expect(wire(await s.handleLine("USER alice@example.test"))).toMatch(/^\+OK /);
    const r = await s.handleLine("PASS correct horse");
    expect(r.ok).toBe(true);
    expect(r.text).toContain(`3 messages (${MSG1.length + MSG2.length + MSG3.length} octets)`);
    expect(s.state).toBe("TRANSACTION");
    expect(store.locks.has(ALICE.id)).toBe(true);
  });

  it("answers a wrong password with -ERR [AUTH], after the delay, and counts it (RFC 3206)", async () => {
    const s = newSession();
    await s.handleLine("USER alice@example.test");
    const r = await s.handleLine("PASS wrong password");
    expect(wire(r)).toMatch(/^-ERR \[AUTH\] /);
    expect(r.close).toBeFalsy();
    expect(delays).toBe(1);
    expect(authFailures).toEqual(["alice@example.test"]);
    expect(s.state).toBe("AUTHORIZATION");
    expect(store.locks.size).toBe(0);
    // A new PASS needs a new USER.
    expect(wire(await s.handleLine("PASS correct horse"))).toBe("-ERR USER first\r\n");
  });

  it("answers an unknown user exactly like a wrong password", async () => {
    const s = newSession();
    await s.handleLine("USER nobody@example.test");
    const unknown = await s.handleLine("PASS correct horse");
    await s.handleLine("USER alice@example.test");
    const wrong = await s.handleLine("PASS nope");
    expect(wire(unknown)).toBe(wire(wrong));
  });

  it("closes the connection after three failed logins", async () => {
    const s = newSession();
    for (let i = 1; i <= 3; i++) {
      await s.handleLine("USER alice@example.test");
      const r = await s.handleLine(`PASS wrong${i}`);
      expect(r.ok).toBe(false);
      expect(Boolean(r.close)).toBe(i === 3);
    }
  });

  it("refuses PASS before USER and PASS without a password", async () => {
    const s = newSession();
    expect(wire(await s.handleLine("PASS correct horse"))).toBe("-ERR USER first\r\n");
    await s.handleLine("USER alice@example.test");
    expect((await s.handleLine("PASS")).ok).toBe(false);
  });

  it("answers -ERR [IN-USE] when another session holds the maildrop (RFC 2449 §8.1.2)", async () => {
    const first = await loggedIn();
    const second = newSession();
    await second.handleLine("USER alice@example.test");
    const r = await second.handleLine("PASS correct horse");
    expect(wire(r)).toMatch(/^-ERR \[IN-USE\] /);
    expect(second.state).toBe("AUTHORIZATION");
    expect(authFailures).toEqual([]); // right credentials: not an auth failure
    await first.handleLine("QUIT");
    await second.handleLine("USER alice@example.test");
    expect((await second.handleLine("PASS correct horse")).ok).toBe(true);
  });

  it("refuses TRANSACTION commands, naming the state", async () => {
    const s = newSession();
    for (const cmd of ["STAT", "LIST", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "NOOP", "RSET"]) {
      const r = await s.handleLine(cmd);
      expect(r.ok).toBe(false);
      expect(r.text).toContain("AUTHORIZATION state");
    }
  });

  it("answers unknown commands and parse errors with -ERR, and stays usable", async () => {
    const s = newSession();
    expect(wire(await s.handleLine("APOP alice c4c9334bac560ecc979e58001b3e22fb"))).toBe("-ERR unknown command\r\n");
    expect(wire(await s.handleLine("XYZZY"))).toBe("-ERR unknown command\r\n");
    expect(wire(await s.handleLine(""))).toBe("-ERR empty command\r\n");
    expect(wire(await s.handleLine("NOOP " + "x".repeat(300)))).toBe("-ERR line too long\r\n");
    expect((await s.handleLine("USER alice@example.test")).ok).toBe(true);
  });

  it("says goodbye to QUIT without opening the maildrop", async () => {
    const s = newSession();
    const r = await s.handleLine("QUIT");
    expect(r.ok).toBe(true);
    expect(r.close).toBe(true);
    expect(store.locks.size).toBe(0);
  });

  it("lists its capabilities (RFC 2449 §5)", async () => {
    const r = await newSession().handleLine("CAPA");
    expect(r.ok).toBe(true);
    expect(r.lines).toEqual(expect.arrayContaining(["USER", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]));
    const t = await (await loggedIn()).handleLine("capa");
    expect(t.lines).not.toContain("USER");
    expect(t.lines).toContain("TOP");
  });

  it("answers -ERR [SYS/TEMP] when the maildrop cannot be opened", async () => {
    store.failOpen = true;
    const s = newSession();
    await s.handleLine("USER alice@example.test");
    expect(wire(await s.handleLine("PASS correct horse"))).toMatch(/^-ERR \[SYS\/TEMP\] /);
    expect(s.state).toBe("AUTHORIZATION");
  });
});

describe("POP3 session: TRANSACTION state (RFC 1939 §5, §7)", () => {
  it("STAT counts messages and octets", async () => {
    const s = await loggedIn();
    expect(wire(await s.handleLine("STAT"))).toBe(`+OK 3 ${MSG1.length + MSG2.length + MSG3.length}\r\n`);
  });

  it("LIST gives a scan listing, or one message's size", async () => {
    const s = await loggedIn();
    expect(wire(await s.handleLine("LIST"))).toBe(
      `+OK scan listing follows\r\n1 ${MSG1.length}\r\n2 ${MSG2.length}\r\n3 ${MSG3.length}\r\n.\r\n`,
    );
    expect(wire(await s.handleLine("LIST 2"))).toBe(`+OK 2 ${MSG2.length}\r\n`);
    expect(wire(await s.handleLine("LIST 4"))).toBe("-ERR no such message\r\n");
    expect(wire(await s.handleLine("LIST 0"))).toBe("-ERR no such message\r\n");
    expect(wire(await s.handleLine("LIST x"))).toBe("-ERR no such message\r\n");
  });

  it("UIDL gives <uid_validity>.<uid>, stable across sessions", async () => {
    const s = await loggedIn();
    const listing = wire(await s.handleLine("UIDL"));
    expect(listing).toBe(
      "+OK unique-id listing follows\r\n1 1700000000.10\r\n2 1700000000.15\r\n3 1700000000.20\r\n.\r\n",
    );
    expect(wire(await s.handleLine("UIDL 3"))).toBe("+OK 3 1700000000.20\r\n");
    await s.handleLine("DELE 1");
    await s.handleLine("QUIT");
    const again = await loggedIn();
    expect(wire(await again.handleLine("UIDL"))).toBe(
      "+OK unique-id listing follows\r\n1 1700000000.15\r\n2 1700000000.20\r\n.\r\n",
    );
  });

  it("RETR sends the message byte-stuffed and ends with CRLF.CRLF", async () => {
    const s = await loggedIn();
    const out = await streamed(await s.handleLine("RETR 1"));
    expect(out).toBe(`+OK ${MSG1.length} octets\r\n${MSG1.replace(".hidden", "..hidden")}.\r\n`);
  });

  it("TOP sends the header, the blank line and n body lines (RFC 1939 §7)", async () => {
    const s = await loggedIn();
    expect(wire(await s.handleLine("TOP 2 0"))).toBe(
      "+OK top of message follows\r\nFrom: carol@example.test\r\nSubject: two\r\n\r\n.\r\n",
    );
    expect(wire(await s.handleLine("TOP 2 2"))).toBe(
      "+OK top of message follows\r\nFrom: carol@example.test\r\nSubject: two\r\n\r\nline 1\r\nline 2\r\n.\r\n",
    );
    expect(wire(await s.handleLine("TOP 2 99"))).toBe(`+OK top of message follows\r\n${MSG2}.\r\n`);
    expect((await s.handleLine("TOP 2")).ok).toBe(false);
    expect((await s.handleLine("TOP 2 -1")).ok).toBe(false);
  });

  it("DELE marks a message; it disappears from STAT, LIST and RETR but stays stored", async () => {
    const s = await loggedIn();
    expect(wire(await s.handleLine("DELE 2"))).toBe("+OK message 2 deleted\r\n");
    expect(wire(await s.handleLine("DELE 2"))).toBe("-ERR message 2 already deleted\r\n");
    expect(wire(await s.handleLine("STAT"))).toBe(`+OK 2 ${MSG1.length + MSG3.length}\r\n`);
    expect(wire(await s.handleLine("LIST"))).toBe(`+OK scan listing follows\r\n1 ${MSG1.length}\r\n3 ${MSG3.length}\r\n.\r\n`);
    expect(wire(await s.handleLine("RETR 2"))).toBe("-ERR no such message\r\n");
    expect(wire(await s.handleLine("LIST 2"))).toBe("-ERR no such message\r\n");
    expect(store.stored.size).toBe(3);
  });

  it("RSET unmarks every deleted message", async () => {
    const s = await loggedIn();
    await s.handleLine("DELE 1");
    await s.handleLine("DELE 3");
    expect((await s.handleLine("RSET")).text).toContain("3 messages");
    expect((await s.handleLine("RETR 1")).ok).toBe(true);
    await s.handleLine("QUIT");
    expect(store.expunged).toEqual([]);
  });

  it("NOOP answers +OK; USER and PASS are refused, naming the state", async () => {
    const s = await loggedIn();
    expect(wire(await s.handleLine("NOOP"))).toBe("+OK\r\n");
    expect(wire(await s.handleLine("USER alice@example.test"))).toBe("-ERR USER not valid in TRANSACTION state\r\n");
    expect(wire(await s.handleLine("PASS x"))).toBe("-ERR PASS not valid in TRANSACTION state\r\n");
  });

  it("counts the commands it knows", async () => {
    const s = await loggedIn();
    await s.handleLine("STAT");
    await s.handleLine("FROB");
    expect(commands).toEqual(["USER", "PASS", "STAT"]);
  });
});

describe("POP3 session: UPDATE state (RFC 1939 §6)", () => {
  it("QUIT removes the messages marked as deleted, releases the lock and closes", async () => {
    const s = await loggedIn();
    await s.handleLine("DELE 1");
    await s.handleLine("DELE 3");
    const r = await s.handleLine("QUIT");
    expect(r.ok).toBe(true);
    expect(r.close).toBe(true);
    expect(r.text).toContain("1 messages left");
    expect(store.expunged.sort()).toEqual([10, 20]);
    expect([...store.stored.keys()]).toEqual([15]);
    expect(store.locks.size).toBe(0);
  });

  it("a session that ends without QUIT removes nothing and releases the lock", async () => {
    const s = await loggedIn();
    await s.handleLine("DELE 1");
    await s.abort();
    expect(store.expunged).toEqual([]);
    expect(store.locks.size).toBe(0);
    expect((await s.handleLine("STAT")).close).toBe(true);
  });

  it("reports -ERR when the deletions cannot be applied, and still releases the lock", async () => {
    const s = await loggedIn();
    await s.handleLine("DELE 1");
    store.failExpunge = true;
    const r = await s.handleLine("QUIT");
    expect(wire(r)).toBe("-ERR [SYS/TEMP] some deleted messages not removed\r\n");
    expect(r.close).toBe(true);
    expect(store.locks.size).toBe(0);
    expect(store.stored.size).toBe(3);
  });
});

describe("POP3 session: STLS, AUTH PLAIN and CAPA per state (RFC 2595, RFC 5034, RFC 2449)", () => {
  const plain = (authzid: string, user: string, password: string) => Buffer.from(`${authzid}\0${user}\0${password}`).toString("base64");
  const clearOnly = { tls: false, stlsAvailable: true, plaintextAuth: false };

  it("logs in with AUTH PLAIN and an initial response", async () => {
    const s = newSession();
    const r = await s.handleLine(`AUTH PLAIN ${plain("", ALICE.address, PASSWORD)}`);
    expect(wire(r)).toMatch(/^\+OK maildrop locked and ready, 3 messages/);
    expect(s.state).toBe("TRANSACTION");
    expect(store.locks.has(ALICE.id)).toBe(true);
  });

  it("sends an empty challenge '+ ' and reads the response on the next line", async () => {
    const s = newSession();
    expect(wire(await s.handleLine("auth plain"))).toBe("+ \r\n");
    expect(wire(await s.handleLine(plain(ALICE.address, ALICE.address, PASSWORD)))).toMatch(/^\+OK maildrop locked/);
    expect(s.state).toBe("TRANSACTION");
  });

  it("answers a wrong password with -ERR [AUTH] after the delay, like PASS", async () => {
    const s = newSession();
    expect(wire(await s.handleLine(`AUTH PLAIN ${plain("", ALICE.address, "wrong")}`))).toMatch(/^-ERR \[AUTH\] invalid user name or password/);
    expect(delays).toBe(1);
    expect(authFailures).toEqual([ALICE.address]);
    expect(s.state).toBe("AUTHORIZATION");
  });

  it("cancels with '*', refuses bad base64, another authzid and other mechanisms", async () => {
    const s = newSession();
    await s.handleLine("AUTH PLAIN");
    expect(wire(await s.handleLine("*"))).toBe("-ERR authentication cancelled\r\n");
    await s.handleLine("AUTH PLAIN");
    // The line after the challenge is the SASL response, never a command.
    expect(wire(await s.handleLine("STAT"))).toBe("-ERR a PLAIN response is authzid NUL authcid NUL password\r\n");
    await s.handleLine("AUTH PLAIN");
    expect(wire(await s.handleLine("LIST 1"))).toBe("-ERR invalid base64 in the SASL response\r\n");
    expect(wire(await s.handleLine(`AUTH PLAIN ${plain("bob@example.test", ALICE.address, PASSWORD)}`))).toMatch(/^-ERR \[AUTH\] authorization identity/);
    expect(wire(await s.handleLine("AUTH CRAM-MD5"))).toBe("-ERR unsupported SASL mechanism CRAM-MD5\r\n");
    expect(wire(await s.handleLine("AUTH"))).toBe("+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n");
    // A too-long response line cancels the exchange; the session goes on with commands.
    await s.handleLine("AUTH PLAIN");
    expect(wire(s.lineTooLong())).toBe("-ERR SASL response too long, authentication cancelled\r\n");
    expect(wire(await s.handleLine("NOOP"))).toBe("-ERR NOOP not valid in AUTHORIZATION state\r\n");
    expect(s.state).toBe("AUTHORIZATION");
  });

  it("refuses USER and AUTH PLAIN in the clear when the policy says so, and lists neither in CAPA", async () => {
    const s = newSession({ security: clearOnly });
    expect(wire(await s.handleLine("USER alice@example.test"))).toMatch(/^-ERR \[AUTH\] plaintext authentication is not allowed/);
    expect(wire(await s.handleLine(`AUTH PLAIN ${plain("", ALICE.address, PASSWORD)}`))).toMatch(/^-ERR \[AUTH\] plaintext/);
    expect(wire(await s.handleLine("AUTH"))).toBe("+OK SASL mechanisms follow\r\n.\r\n");
    const caps = (await s.handleLine("CAPA")).lines;
    expect(caps).toContain("STLS");
    expect(caps).not.toContain("USER");
    expect(caps).not.toContain("SASL PLAIN");
    expect(store.locks.size).toBe(0);
  });

  it("STLS answers +OK and asks for the handshake; afterwards USER, SASL PLAIN appear and STLS goes", async () => {
    const s = newSession({ security: clearOnly });
    await s.handleLine("USER alice@example.test");
    const r = await s.handleLine("STLS");
    expect(wire(r)).toBe("+OK begin TLS negotiation\r\n");
    expect(r.startTls).toBe(true);
    s.tlsStarted();
    expect((await s.handleLine("CAPA")).lines).toEqual(
      ["USER", "SASL PLAIN", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Correo"],
    );
    expect(wire(await s.handleLine("STLS"))).toBe("-ERR TLS is already active\r\n");
    // RFC 2595 §4: what was said before TLS is forgotten; USER must be sent again.
    expect(wire(await s.handleLine(`PASS ${PASSWORD}`))).toBe("-ERR USER first\r\n");
    await s.handleLine(`USER ${ALICE.address}`);
    expect((await s.handleLine(`PASS ${PASSWORD}`)).ok).toBe(true);
  });

  it("lists STLS, USER and SASL PLAIN in AUTHORIZATION and none of them in TRANSACTION", async () => {
    const s = newSession({ security: { tls: false, stlsAvailable: true, plaintextAuth: true } });
    expect((await s.handleLine("CAPA")).lines).toEqual(
      ["STLS", "USER", "SASL PLAIN", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Correo"],
    );
    await s.handleLine(`AUTH PLAIN ${plain("", ALICE.address, PASSWORD)}`);
    expect((await s.handleLine("CAPA")).lines).toEqual(["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Correo"]);
    expect(wire(await s.handleLine("STLS"))).toBe("-ERR STLS not valid in TRANSACTION state\r\n");
    expect(wire(await s.handleLine("AUTH PLAIN"))).toBe("-ERR AUTH not valid in TRANSACTION state\r\n");
  });

  it("does not offer STLS without a certificate, nor on POP3S", async () => {
    expect((await newSession().handleLine("CAPA")).lines).not.toContain("STLS");
    expect(wire(await newSession().handleLine("STLS"))).toBe("-ERR STLS is not available\r\n");
    const implicit = newSession({ security: { tls: true, stlsAvailable: false, plaintextAuth: false } });
    expect((await implicit.handleLine("CAPA")).lines).toEqual(expect.arrayContaining(["USER", "SASL PLAIN"]));
    expect((await implicit.handleLine("CAPA")).lines).not.toContain("STLS");
  });
});

describe("POP3 session: the listing is read only when a command needs it", () => {
  it("answers the login, STAT, NOOP, RSET and QUIT from the snapshot's totals", async () => {
    const s = await loggedIn();
    const octets = MSG1.length + MSG2.length + MSG3.length;
    expect(wire(await s.handleLine("STAT"))).toBe(`+OK 3 ${octets}\r\n`);
    await s.handleLine("NOOP");
    expect(wire(await s.handleLine("RSET"))).toBe(`+OK maildrop has 3 messages (${octets} octets)\r\n`);
    expect(wire(await s.handleLine("QUIT"))).toBe("+OK pop.example.test Correo POP3 signing off (3 messages left)\r\n");
    expect(store.listings).toBe(0);
  });

  it("reads it once for LIST, UIDL, RETR, TOP and DELE together", async () => {
    const s = await loggedIn();
    await s.handleLine("LIST");
    await s.handleLine("UIDL 1");
    await streamed(await s.handleLine("RETR 2"));
    await s.handleLine("TOP 1 0");
    expect((await s.handleLine("DELE 3")).ok).toBe(true);
    expect(wire(await s.handleLine("STAT"))).toBe(`+OK 2 ${MSG1.length + MSG2.length}\r\n`);
    expect(store.listings).toBe(1);
  });

  it("lists before DELE, so a first DELE of a number beyond the maildrop is refused", async () => {
    const s = await loggedIn();
    expect(wire(await s.handleLine("DELE 4"))).toBe("-ERR no such message\r\n");
    expect(wire(await s.handleLine("DELE 3"))).toBe("+OK message 3 deleted\r\n");
  });
});
