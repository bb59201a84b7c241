import "./instrument.js";
import { DeadLetterQueue } from "@correo/broker";
import { AuthCache, DirectoryCache } from "@correo/directory";
import { LoginThrottle, loginThrottleLimits } from "@correo/login-throttle";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { loadTlsCredentials } from "@correo/tls";
import { createTrustResolver } from "@correo/trust";
import { SpamCheck } from "./smtp/spam-check.js";
import { buildHttpApi } from "./http/app.js";
import { SmtpCounters } from "./smtp/limits.js";
import { startMxListener } from "./smtp/mx-listener.js";
import { startSubmissionListener } from "./smtp/submission-listener.js";
import type { SmtpLimits } from "./smtp/transaction.js";
import { srsSettings } from "@correo/srs";

void runService("submission", async ({ config, log, pool, broker, redis, onStop }) => {
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const app = buildHttpApi({
    logger: log,
    pool,
    outbox,
    clock: systemClock,
    hostname: config.hostname,
    maxMessageSize: config.maxMessageSize,
    maxRecipients: config.smtpMaxRecipients,
    redriveAfterMs: config.redriveAfter,
    webhooks: { allowHttp: config.webhookAllowHttp === "true", testTimeoutMs: 10_000 },
    deadLetters: new DeadLetterQueue({ url: config.amqpUrl, prefix: config.prefix, connectionName: `correo submission admin ${process.pid}` }),
  });
  await app.listen({ host: config.listenHost, port: config.httpPort });
  // Stop taking requests first; the pool and broker close after in-flight ones finish.
  onStop(() => app.close());
  log.info({ httpPort: config.httpPort }, "HTTP submission API listening");

  const tls = await loadTlsCredentials({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname });
  const limits: SmtpLimits = {
    maxMessageSize: config.maxMessageSize,
    maxRecipients: config.smtpMaxRecipients,
    maxLineLength: config.smtpMaxLineLength,
    idleTimeoutMs: config.smtpIdleTimeout,
    sessionTimeoutMs: config.smtpSessionTimeout,
    mxGreetPauseMs: config.smtpMxGreetPause,
    maxUnauthenticatedCommands: config.smtpMaxUnauthCommands,
    maxConnectionsPerIp: config.smtpMaxConnectionsPerIp,
    authMaxFailuresPerSession: 3,
    messagesPerHour: config.smtpMessagesPerHour,
  };
  const counters = new SmtpCounters(await redis(), config.prefix, systemClock, { leaseTtlMs: config.smtpConnectionLease, log });
  onStop(() => counters.stop());
  const logins = new LoginThrottle(await redis(), config.prefix, loginThrottleLimits(config), { log });
  const authCache = new AuthCache({ ttlMs: config.authCacheTtl, maxEntries: config.authCacheSize });
  const directory = new DirectoryCache(pool, { ttlMs: config.directoryCacheTtl, databaseUrl: config.databaseUrl, applicationName: `correo-submission ${process.pid} directory`, log });
  await directory.start();
  onStop(() => directory.close());
  const smtp = {
    pool,
    directory,
    outbox,
    clock: systemClock,
    counters,
    logins,
    authCache,
    hostname: config.hostname,
    redriveAfterMs: config.redriveAfter,
    limits,
    postmaster: config.postmasterAddress,
    srs: srsSettings(config),
    log,
    host: config.listenHost,
    tls,
    maxConnections: config.smtpMaxConnections,
  };
  // Issue 14: SPF, DKIM, DMARC, ARC and iprev at the MX only, never on submission.
  const trust =
    config.verifyInbound === "on"
      ? {
          resolver: createTrustResolver({ servers: config.dnsServers, timeoutMs: config.inboundDnsTimeout }),
          authservId: config.authservId ?? config.hostname,
          defaultPolicy: config.inboundAuthPolicy,
          trustedArcSealers: config.trustedArcSealers,
        }
      : undefined;
  // Issue 14: rspamd's score at the MX's end of DATA, when RSPAMD_URL is set.
  const spamCheck = SpamCheck.fromConfig(config, log);
  if (spamCheck) onStop(() => spamCheck.close());
  const listeners = [
    await startMxListener({ ...smtp, port: config.smtpMxPort, trust, spamCheck }),
    await startSubmissionListener({ ...smtp, port: config.smtpSubmissionPort }, false),
    await startSubmissionListener({ ...smtp, port: config.smtpsPort }, true),
  ];
  // Registered after redis(): stops run in reverse, so sessions end before Redis goes.
  onStop(() => Promise.all(listeners.map((l) => l.close())).then(() => undefined));
  log.info(
    { smtpMxPort: listeners[0]!.port, smtpSubmissionPort: listeners[1]!.port, smtpsPort: listeners[2]!.port, tls: tls.source, verifyInbound: config.verifyInbound, inboundAuthPolicy: config.inboundAuthPolicy, rspamd: spamCheck ? config.rspamdUrl : "off" },
    "SMTP listeners up",
  );
});
