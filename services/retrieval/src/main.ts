import "./instrument.js";
import { AuthCache } from "@correo/directory";
import { LoginThrottle, loginThrottleLimits } from "@correo/login-throttle";
import { MailStore } from "@correo/mailstore";
import { runService } from "@correo/runtime";
import { Outbox } from "@correo/spool";
import { loadTlsCredentials } from "@correo/tls";
import { buildMailboxApi } from "./http/app.js";
import { MailboxWatchers } from "./imap/change-notifier.js";
import { ConnectionSlots } from "./connection-slots.js";
import { startImapListener } from "./imap/listener.js";
import { mailstoreAdapter } from "./imap/mailstore-adapter.js";
import { startPop3Listener } from "./pop3/listener.js";
import { directoryAuthenticator, PgMaildropStore } from "./pop3/maildrop-store.js";

void runService("retrieval", async ({ config, log, pool, broker, redis, onStop }) => {
  const r = await redis();
  // Changes (flags, moves, expunges) are announced through the outbox; events RabbitMQ
  // does not confirm are republished by the sweeper of any process.
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());
  const mail = new MailStore({ pool, changes: outbox });
  // Failed logins count over every protocol and copy: per client address, per account.
  const logins = new LoginThrottle(r, config.prefix, loginThrottleLimits(config), { log });
  // One cache of verified logins for POP3, HTTP Basic and IMAP: a client that reconnects skips scrypt.
  const authCache = new AuthCache({ ttlMs: config.authCacheTtl, maxEntries: config.authCacheSize });
  const tls = await loadTlsCredentials({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname });

  // POP3_MAX_CONNECTIONS counts POP3 and POP3S together.
  const pop3Slots = new ConnectionSlots(config.pop3MaxConnections);
  const maildrops = new PgMaildropStore({ pool, mail, redis: r, prefix: config.prefix, log });
  const pop3Common = {
    host: config.listenHost,
    hostname: config.hostname,
    authenticator: directoryAuthenticator(pool, authCache),
    store: maildrops,
    tls,
    plaintextAuth: config.pop3PlaintextAuth,
    slots: pop3Slots,
    logins,
    log,
  };
  const pop3 = await startPop3Listener({ ...pop3Common, port: config.pop3Port });
  const pop3s = await startPop3Listener({ ...pop3Common, port: config.pop3sPort, implicitTls: true });
  // Registered after redis(): stops run in reverse, so sessions release their locks before Redis goes.
  onStop(() => Promise.all([pop3.close(), pop3s.close()]).then(() => undefined));
  log.info({ pop3Port: pop3.port, pop3sPort: pop3s.port, tls: tls.source, plaintextAuth: config.pop3PlaintextAuth }, "POP3 listening (STLS and POP3S)");

  const api = await buildMailboxApi({ logger: log, store: mail, logins, authCache });
  await api.listen({ host: config.listenHost, port: config.retrievalHttpPort });
  // Stop taking requests first; the pool closes after in-flight ones finish.
  onStop(() => api.close());
  log.info({ httpPort: config.retrievalHttpPort }, "HTTP mailbox API listening");

  // IMAP: sessions read and change the store through the adapter; mailbox.changed
  // notifications (from the mailbox service and every retrieval copy) wake the sessions
  // that have the mailbox selected, for IDLE and untagged EXISTS/EXPUNGE/FETCH.
  const watchers = new MailboxWatchers({
    announce: (accountId) =>
      void broker.publish({ type: "mailboxes.changed", version: 1, accountId }).catch((err: Error) => log.warn({ err: err.message, accountId }, "could not announce a mailbox name change")),
  });
  const imap = await startImapListener({
    host: config.listenHost,
    port: config.imapPort,
    tlsPort: config.imapsPort,
    hostname: config.hostname,
    storage: mailstoreAdapter(pool, mail, authCache),
    notifier: watchers,
    logins,
    tls,
    log,
    maxConnections: config.imapMaxConnections,
  });
  onStop(() => imap.close());
  log.info({ imapPort: imap.port, imapsPort: imap.tlsPort }, "IMAP listening (STARTTLS and IMAPS)");

  await broker.subscribeNotifications(["mailbox.changed", "mailboxes.changed"], async (event) => {
    if (event.type === "mailboxes.changed") return watchers.accountWoken(event.accountId);
    log.debug({ accountId: event.accountId, mailboxId: event.mailboxId, uid: event.uid, change: event.change }, "mailbox changed");
    watchers.changed(event.mailboxId, event.accountId);
  });
});
