import "./instrument.js";
import { runService } from "@correo/runtime";
import { startPop3Listener } from "./pop3/listener.js";
import { directoryAuthenticator, PgMaildropStore } from "./pop3/maildrop-store.js";

void runService("retrieval", async ({ config, log, pool, broker, redis, onStop }) => {
  const r = await redis();
  const pop3 = await startPop3Listener({
    host: config.listenHost,
    port: config.pop3Port,
    hostname: config.hostname,
    authenticator: directoryAuthenticator(pool),
    store: new PgMaildropStore({ pool, redis: r, prefix: config.prefix, log }),
    log,
  });
  // Registered after redis(): stops run in reverse, so sessions release their locks before Redis goes.
  onStop(() => pop3.close());
  log.info({ pop3Port: pop3.port }, "POP3 listening");

  // IMAP IDLE will push these to clients; for now they are only seen in the logs.
  await broker.subscribeNotifications(["mailbox.changed"], async (event) => {
    log.debug({ accountId: event.accountId, mailboxId: event.mailboxId, uid: event.uid, change: event.change }, "mailbox changed");
  });
});
