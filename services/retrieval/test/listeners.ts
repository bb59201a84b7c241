import type { Redis } from "ioredis";
import type { AuthCache } from "@correo/directory";
import type { LoginThrottle } from "@correo/login-throttle";
import type { MailStore } from "@correo/mailstore";
import { createLogger, type Logger } from "@correo/telemetry";
import { loadTlsCredentials } from "@correo/tls";
import type { IsolatedInfra } from "@correo/testkit";
import { buildMailboxApi } from "../src/http/app.js";
import { MailboxWatchers } from "../src/imap/change-notifier.js";
import { startImapListener, type ImapListener, type ImapListenerOptions } from "../src/imap/listener.js";
import { mailstoreAdapter } from "../src/imap/mailstore-adapter.js";
import { startPop3Listener } from "../src/pop3/listener.js";
import { directoryAuthenticator, PgMaildropStore } from "../src/pop3/maildrop-store.js";

export interface RetrievalListenersOptions {
  infra: IsolatedInfra;
  redis: Redis;
  mail: MailStore;
  /** One throttle for all three, as main.ts wires it: failures count across protocols. */
  logins: LoginThrottle;
  log: Logger;
  /** The IMAP and POP3 listeners' own log (e.g. one that records errors); `log` when not given. */
  listenerLog?: Logger;
  /** Greeting host names: `imap.<domain>` and `pop.<domain>`. */
  domain: string;
  imapLimits?: ImapListenerOptions["limits"];
  /** One login cache for all three, as main.ts wires it; none when not given. */
  authCache?: AuthCache;
}

export interface RetrievalListeners {
  imapPort: number;
  pop3Port: number;
  apiPort: number;
  stop(): Promise<void>;
}

/** Retrieval's IMAP, POP3 and HTTP mailbox API listeners on free ports of 127.0.0.1, on the real PostgreSQL and Redis. */
export async function startRetrievalListeners(o: RetrievalListenersOptions): Promise<RetrievalListeners> {
  const listenerLog = o.listenerLog ?? o.log;
  const tls = await loadTlsCredentials({ hostname: "localhost" });
  const imap = await startImapListener({
    host: "127.0.0.1",
    port: 0,
    hostname: `imap.${o.domain}`,
    storage: mailstoreAdapter(o.infra.pool, o.mail, o.authCache),
    tls,
    log: listenerLog,
    logins: o.logins,
    ...(o.imapLimits ? { limits: o.imapLimits } : {}),
  });
  const pop3 = await startPop3Listener({
    host: "127.0.0.1",
    port: 0,
    hostname: `pop.${o.domain}`,
    authenticator: directoryAuthenticator(o.infra.pool, o.authCache),
    store: new PgMaildropStore({ pool: o.infra.pool, mail: o.mail, redis: o.redis, prefix: o.infra.prefix, log: o.log }),
    tls,
    log: listenerLog,
    logins: o.logins,
  });
  const api = await buildMailboxApi({ logger: o.log, store: o.mail, logins: o.logins, ...(o.authCache ? { authCache: o.authCache } : {}) });
  await api.listen({ host: "127.0.0.1", port: 0 });
  const a = api.server.address();
  return {
    imapPort: imap.port,
    pop3Port: pop3.port,
    apiPort: typeof a === "object" && a ? a.port : 0,
    async stop() {
      await imap.close();
      await pop3.close();
      await api.close();
    },
  };
}

/**
 * One IMAP listener (STARTTLS and IMAPS on free ports) over the real store, with small
 * limits and a short failed-login delay, for the IMAP wire tests. Nothing announces
 * changes but `watchers` (no outbox): a session sees what it reads and what a test signals.
 */
export async function startTestImapListener(o: { infra: IsolatedInfra; mail: MailStore; watchers?: MailboxWatchers; hostname: string; name: string }): Promise<ImapListener> {
  return startImapListener({
    host: "127.0.0.1",
    port: 0,
    tlsPort: 0,
    hostname: o.hostname,
    storage: mailstoreAdapter(o.infra.pool, o.mail),
    notifier: o.watchers ?? new MailboxWatchers(),
    tls: await loadTlsCredentials({ hostname: "localhost" }),
    log: createLogger(o.name, "silent"),
    limits: { maxLineOctets: 8192, maxLiteralOctets: 1024 * 1024 },
    authFailureDelayMs: 10,
  });
}
