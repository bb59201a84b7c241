import { expect } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailboxWatchers } from "../src/imap/change-notifier.js";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

/** One account of imap.test, logged in over a raw IMAP connection to a real listener on a real PostgreSQL. */
export interface LoggedInImap {
  infra: IsolatedInfra;
  listener: ImapListener;
  wire: LineWire;
  /** Sends one command line; resolves with everything up to its tagged OK, NO or BAD. */
  run(line: string): Promise<string>;
  close(): Promise<void>;
}

/** Sends `line` on `wire` and waits for the tagged reply of its tag. */
export function runOn(wire: LineWire, line: string, timeoutMs = 5_000): Promise<string> {
  const tag = line.split(" ")[0]!;
  wire.drain();
  wire.write(line + "\r\n");
  return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), timeoutMs);
}

/**
 * What most IMAP command suites start from: their own database and prefix, the domain
 * imap.test with `user`, a listener (with IDLE/NOTIFY watchers when asked) and a session
 * past LOGIN.
 */
export async function loggedInImap(prefix: string, user: string, password: string, o: { watchers?: boolean } = {}): Promise<LoggedInImap> {
  const infra = await isolatedInfra(prefix);
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, user, password);
  const listener = await startTestImapListener({
    infra,
    mail: new MailStore({ pool: infra.pool }),
    ...(o.watchers ? { watchers: new MailboxWatchers() } : {}),
    hostname: "imap.test",
    name: `${prefix}-test`,
  });
  const wire = await LineWire.open(listener.port);
  await wire.until(/^\* OK[^\r]*\r\n/);
  const run = (line: string) => runOn(wire, line);
  expect(await run(`L LOGIN ${user} "${password}"`)).toContain("L OK");
  return {
    infra,
    listener,
    wire,
    run,
    async close() {
      wire.close();
      await listener.close();
      await infra.cleanup();
    },
  };
}
