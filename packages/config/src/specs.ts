import { hostname as osHostname } from "node:os";
import {
  domainList,
  duration,
  durationOrOff,
  flag,
  hostname,
  namePrefix,
  oneOf,
  optionalHostname,
  optionalText,
  optionalUrl,
  optionalAddress,
  port,
  positiveInt,
  secretList,
  text,
  url,
} from "./fields.js";

function defaultHostname(): string {
  const h = osHostname().toLowerCase();
  return /^[a-z0-9.-]{1,253}$/.test(h) ? h : "localhost";
}

/** What every process needs: the three servers, its name on the wire, its log level. */
export const infraSpec = {
  amqpUrl: url("AMQP_URL", "RabbitMQ URL", ["amqp", "amqps"], "amqp://guest:guest@127.0.0.1:5672"),
  databaseUrl: url("DATABASE_URL", "PostgreSQL URL", ["postgres", "postgresql"], "postgres://postgres@127.0.0.1:5432/correo"),
  redisUrl: url("REDIS_URL", "Redis URL", ["redis", "rediss"], "redis://127.0.0.1:6379"),
  prefix: namePrefix("CORREO_PREFIX", "prefix of broker names and Redis keys", "correo"),
  hostname: hostname("CORREO_HOSTNAME", "name used in banners, EHLO and Received: lines", defaultHostname()),
  logLevel: oneOf("LOG_LEVEL", "pino log level", ["trace", "debug", "info", "warn", "error", "fatal"] as const, "info"),
  otlpEndpoint: optionalText("OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP endpoint for traces; unset disables export"),
  // Read by packages/telemetry before the service's config (the SDK starts first); named
  // here so that a wrong value stops the service with exit 78 like any other.
  otelDb: flag("CORREO_OTEL_DB", "a span and a db_client_operation_duration record for every PostgreSQL statement and Redis command", false),
  listenHost: text("LISTEN_HOST", "address the service's listeners bind to", "127.0.0.1"),
} as const;

function opsPort(fallback: number) {
  return port("OPS_PORT", "port of /healthz, /readyz and /metrics", fallback);
}

/** The certificate of STARTTLS and implicit-TLS listeners; unset: self-signed for the host name. */
/**
 * The directory's answers each process keeps (packages/directory DirectoryCache): a
 * recipient's status, a domain's inbound policy, a transport. Emptied by NOTIFY on every
 * change (migration 026), so the TTL only bounds how long an answer may live.
 */
const directoryCacheSpec = {
  directoryCacheTtl: duration("DIRECTORY_CACHE_TTL", "how long a service keeps the directory's answer for a recipient, a domain's policy or a transport; changes reach every copy at once through LISTEN/NOTIFY, this only bounds an entry's life (0s: ask the database every time)", "5m"),
} as const;

const tlsSpec = {
  tlsCertPath: optionalText("TLS_CERT_PATH", "PEM certificate chain for TLS listeners; unset: a self-signed one"),
  tlsKeyPath: optionalText("TLS_KEY_PATH", "PEM private key of TLS_CERT_PATH"),
} as const;

/**
 * Failed logins (SMTP AUTH, IMAP, POP3, HTTP Basic), counted in Redis over all copies:
 * a client address is refused past a number of failures, an account's failures are
 * answered later and later (packages/login-throttle). No account is ever locked.
 */
const loginThrottleSpec = {
  authMaxFailuresPerIp: positiveInt("AUTH_MAX_FAILURES_PER_IP", "failed logins from one client address (IPv6: one /64) before it is refused for AUTH_FAILURE_WINDOW", 10),
  authFailureWindow: duration("AUTH_FAILURE_WINDOW", "how long a failed login counts after the latest one, per address and per account", "15m"),
  authPenaltyBase: duration("AUTH_PENALTY_BASE", "delay of an account's second failed login, doubling with each further one (0ms: none)", "500ms"),
  authPenaltyMax: duration("AUTH_PENALTY_MAX", "longest delay before a failed login is answered", "15s"),
} as const;

/**
 * Successful logins remembered in each process (packages/directory AuthCache) so that a
 * client that reconnects does not pay scrypt again; the account row is still read at
 * every login, so a changed password or a disabled account counts at once.
 */
const authCacheSpec = {
  authCacheTtl: duration("AUTH_CACHE_TTL", "how long a verified login is remembered so that the same credentials skip scrypt (0s: never)", "5m"),
  authCacheSize: positiveInt("AUTH_CACHE_SIZE", "verified logins each process remembers, least recently used dropped first", 10000),
} as const;

/**
 * Issue 14: spam scoring at the MX by rspamd over its HTTP protocol (POST /checkv2) at
 * the end of DATA; off while RSPAMD_URL is unset. What each action does: @correo/rspamd's decideSpam.
 */
const rspamdSpec = {
  rspamdUrl: optionalUrl("RSPAMD_URL", "rspamd's normal worker or proxy, e.g. http://127.0.0.1:11333; unset: no spam scoring", ["http", "https"]),
  rspamdTimeout: duration("RSPAMD_TIMEOUT", "how long the MX waits for rspamd's answer at the end of DATA", "2s"),
  rspamdFailClosed: flag("RSPAMD_FAIL_CLOSED", "when rspamd does not answer in time or fails: true defers the message (451 4.7.1), false accepts it unscored", false),
  rspamdPassword: optionalText("RSPAMD_PASSWORD", "sent as rspamd's Password header (a proxy or controller that asks for one)"),
} as const;

function redriveAfter() {
  return duration("REDRIVE_AFTER", "how long a stage may take before an unfinished delivery is re-driven", "2m");
}

/** Every service writes outbox rows and sweeps the outbox: events older than this that nobody published. */
function outboxSweepInterval() {
  return duration("OUTBOX_SWEEP_INTERVAL", "how often events left in the outbox are republished (and how old they must be)", "5s");
}

/** RFC 5321 §4.5.1: where `postmaster` mail goes for domains without a postmaster of their own. */
function postmasterAddress() {
  return optionalText(
    "POSTMASTER_ADDRESS",
    "where mail for <Postmaster> and postmaster@ a hosted domain without its own goes; unset: postmaster@ the first hosted domain",
  );
}

/**
 * What a hosted domain does with inbound mail that fails authentication (issue 14):
 * enforce (DMARC p=reject and SPF -all without DMARC refused with 550 5.7.1,
 * p=quarantine to Junk), quarantine-only (both to Junk), report-only (only recorded).
 * The value set of INBOUND_AUTH_POLICY and of domains.inbound_policy.
 */
export const INBOUND_POLICIES = ["enforce", "quarantine-only", "report-only"] as const;
export type InboundPolicy = (typeof INBOUND_POLICIES)[number];

/** The MX writes Authentication-Results with it; relay-queue seals (ARC) what carries it. */
function authservId() {
  return optionalText("AUTHSERV_ID", "authserv-id of Correo's Authentication-Results headers (RFC 8601 §2.5): the MX adds them, the relay's ARC seal quotes them; unset: CORREO_HOSTNAME");
}

/** SPF, DKIM, DMARC, ARC and iprev at the MX (packages/trust). */
const inboundTrustSpec = {
  verifyInbound: oneOf("VERIFY_INBOUND", "verify SPF, DKIM, DMARC, ARC and iprev of mail received by the MX (never on submission)", ["on", "off"] as const, "on"),
  authservId: authservId(),
  inboundAuthPolicy: oneOf("INBOUND_AUTH_POLICY", "policy of hosted domains without their own (correo domain policy): enforce, quarantine-only or report-only", INBOUND_POLICIES, "enforce"),
  trustedArcSealers: domainList("TRUSTED_ARC_SEALERS", "domains whose ARC seal may turn a DMARC fail into a pass (RFC 8617 §7.2), comma-separated; empty: none"),
  inboundDnsTimeout: duration("INBOUND_DNS_TIMEOUT", "budget of one DNS lookup of the checks; past it the method is temperror", "3s"),
  dnsServers: optionalText("DNS_SERVERS", "resolvers as ip[:port], comma-separated; default the system's"),
} as const;

/**
 * SRS (packages/srs) for mail an alias forwards to outside addresses: routing rewrites the
 * envelope sender, the MX takes bounces to those addresses back. Off while either is unset.
 */
const srsSpec = {
  srsSecrets: secretList("SRS_SECRETS", "SRS secrets, comma-separated: the first signs, all verify (rotation); unset: SRS off"),
  srsDomain: optionalHostname("SRS_DOMAIN", "hosted domain (whose MX this is) on the right of SRS addresses; unset: SRS off"),
  srsMaxAge: duration("SRS_MAX_AGE", "how long an SRS address takes bounces back, whole days (libsrs2: 21 days)", "21d"),
} as const;

/** Issue 15: where webhook endpoints may point (read by the HTTP API and the CLI). */
export function webhookAllowHttp() {
  return oneOf("WEBHOOK_ALLOW_HTTP", "accept http:// webhook endpoints (tests, receivers on loopback); otherwise https only", ["false", "true"] as const, "false");
}

/** Issue 15: the webhook worker (in relay-queue, the outbound deliverer). */
const webhookSpec = {
  webhookTimeout: duration("WEBHOOK_TIMEOUT", "how long one webhook POST may take to be answered", "10s"),
  webhookConcurrency: positiveInt("WEBHOOK_CONCURRENCY", "webhook POSTs at once per endpoint, per relay-queue copy", 32),
  webhookDisableAfter: positiveInt("WEBHOOK_DISABLE_AFTER", "failed attempts in a row within 24 h that disable an endpoint (an event that fails every attempt disables it too)", 100),
  webhookDispatchInterval: duration("WEBHOOK_DISPATCH_INTERVAL", "how often the timeline is read for new webhook events", "200ms"),
} as const;

/** The five services' own settings; each also reads `infraSpec`. Defaults are for local use. */
export const serviceSpecs = {
  submission: {
    ...infraSpec,
    ...tlsSpec,
    ...loginThrottleSpec,
    ...authCacheSpec,
    ...directoryCacheSpec,
    opsPort: opsPort(9101),
    httpPort: port("SUBMISSION_HTTP_PORT", "HTTP API port", 8080),
    maxMessageSize: positiveInt("MAX_MESSAGE_SIZE", "largest accepted message, in bytes", 25 * 1024 * 1024),
    outboxSweepInterval: outboxSweepInterval(),
    redriveAfter: redriveAfter(),
    smtpMxPort: port("SMTP_MX_PORT", "SMTP MX listener port (mail from other servers)", 2525),
    smtpSubmissionPort: port("SMTP_SUBMISSION_PORT", "SMTP submission listener port (STARTTLS, AUTH)", 2587),
    smtpsPort: port("SMTPS_PORT", "SMTP submission listener port with implicit TLS", 2465),
    smtpMaxRecipients: positiveInt("SMTP_MAX_RECIPIENTS", "recipients per message (SMTP and HTTP)", 100),
    smtpMaxLineLength: positiveInt("SMTP_MAX_LINE_LENGTH", "longest line of a message, without CRLF", 998),
    smtpIdleTimeout: duration("SMTP_IDLE_TIMEOUT", "how long an SMTP client may stay silent", "5m"),
    smtpSessionTimeout: duration("SMTP_SESSION_TIMEOUT", "how long one SMTP connection may last in all", "30m"),
    smtpMxGreetPause: duration("SMTP_MX_GREET_PAUSE", "pause before the MX greeting that refuses clients talking too soon (0s: greet at once, as Postfix without postscreen)", "0s"),
    smtpMaxUnauthCommands: positiveInt("SMTP_MAX_UNAUTH_COMMANDS", "commands a submission client may send before AUTH", 10),
    smtpMaxConnectionsPerIp: positiveInt("SMTP_MAX_CONNECTIONS_PER_IP", "concurrent SMTP connections per client address", 20),
    smtpMaxConnections: positiveInt("SMTP_MAX_CONNECTIONS", "concurrent connections one SMTP listener of this process takes, from all clients (MX, submission and submissions each)", 1000),
    smtpConnectionLease: duration("SMTP_CONNECTION_LEASE", "how long a connection counts after its copy stops renewing it (a copy that died)", "15s"),
    smtpMessagesPerHour: positiveInt("SMTP_MESSAGES_PER_HOUR", "messages one account may submit per hour", 500),
    postmasterAddress: postmasterAddress(),
    ...rspamdSpec,
    ...inboundTrustSpec,
    ...srsSpec,
    webhookAllowHttp: webhookAllowHttp(),
  },
  routing: {
    ...infraSpec,
    ...srsSpec,
    ...directoryCacheSpec,
    opsPort: opsPort(9102),
    outboxSweepInterval: outboxSweepInterval(),
    redriveInterval: duration("REDRIVE_INTERVAL", "how often overdue deliveries are re-driven", "30s"),
    postmasterAddress: postmasterAddress(),
    // Issue 15: ARF complaints (RFC 5965) arrive here; routing reads them (docs/operations.md).
    complaintsAddress: optionalAddress(
      "COMPLAINTS_ADDRESS",
      "a hosted address (account or alias) where mailbox providers send ARF feedback reports; routing records each as a complaint and suppresses the address; unset: reports are ordinary mail",
    ),
    redriveAfter: redriveAfter(),
    // Routing resolves MX at decision time with the relay's resolver and retry policy.
    dnsServers: optionalText("DNS_SERVERS", "resolvers as ip[:port], comma-separated; default the system's"),
    relaySmtpPort: port("RELAY_SMTP_PORT", "port of remote MX hosts", 25),
    minBackoff: duration("RELAY_MIN_BACKOFF", "first retry delay", "60s"),
    maxBackoff: duration("RELAY_MAX_BACKOFF", "longest retry delay", "1h"),
    maxLifetime: duration("RELAY_MAX_LIFETIME", "how long a message is retried before it bounces", "5d"),
  },
  "relay-queue": {
    ...infraSpec,
    opsPort: opsPort(9103),
    outboxSweepInterval: outboxSweepInterval(),
    dnsServers: optionalText("DNS_SERVERS", "resolvers as ip[:port], comma-separated; default the system's"),
    relaySmtpPort: port("RELAY_SMTP_PORT", "port of remote MX hosts", 25),
    minBackoff: duration("RELAY_MIN_BACKOFF", "first retry delay", "60s"),
    maxBackoff: duration("RELAY_MAX_BACKOFF", "longest retry delay", "1h"),
    maxLifetime: duration("RELAY_MAX_LIFETIME", "how long a message is retried before it bounces", "5d"),
    delayWarning: duration("RELAY_DELAY_WARNING", "when a 'delayed' DSN is sent", "4h"),
    connectTimeout: duration("RELAY_CONNECT_TIMEOUT", "timeout to connect to a remote MX", "30s"),
    attemptLease: duration(
      "RELAY_ATTEMPT_LEASE",
      "how long an attempt holds its deliveries and connection slot unless its copy renews them (every few seconds while it runs): a copy that dies mid-attempt has them retried within this",
      "30s",
    ),
    destinationConcurrency: positiveInt("RELAY_DESTINATION_CONCURRENCY", "SMTP transactions at once per destination domain, over all copies (each copy also keeps up to this many connections open per host)", 10),
    parkAfter: positiveInt("RELAY_PARK_AFTER", "attempts in a row with no host answering before a destination is parked", 3),
    connectionIdle: duration("RELAY_CONNECTION_IDLE", "how long an idle SMTP connection is kept for the next message", "10s"),
    dsnInterval: duration("RELAY_DSN_INTERVAL", "how often deliveries owed a DSN are looked for", "2s"),
    redriveAfter: redriveAfter(),
    // Inbound routes (issue 15): relay-queue POSTs routed mail to the routes' endpoints.
    inboundPublicUrl: url(
      "INBOUND_PUBLIC_URL",
      "base URL of the submission HTTP API as route endpoints reach it, for the signed links to attachments too big to inline",
      ["http", "https"],
      "http://127.0.0.1:8080",
    ),
    inboundLinkTtl: duration("INBOUND_LINK_TTL", "how long a signed attachment link of an inbound route's POST stays valid", "7d"),
    inboundPostTimeout: duration("INBOUND_POST_TIMEOUT", "how long an inbound route's endpoint may take to answer before the attempt counts as failed", "30s"),
    // RFC 8601 §2.5: the name our Authentication-Results carry, whose results an ARC seal repeats.
    authservId: authservId(),
    ...webhookSpec,
  },
  mailbox: {
    ...infraSpec,
    opsPort: opsPort(9104),
    outboxSweepInterval: outboxSweepInterval(),
    duplicateWindow: durationOrOff(
      "MAILBOX_DUPLICATE_WINDOW",
      "how long a message (same Message-ID and content) delivered to an account again is recorded as a duplicate, not stored; off to store every copy",
      "24h",
    ),
  },
  retrieval: {
    ...infraSpec,
    ...tlsSpec,
    ...loginThrottleSpec,
    ...authCacheSpec,
    opsPort: opsPort(9105),
    outboxSweepInterval: outboxSweepInterval(),
    pop3Port: port("POP3_PORT", "POP3 port", 2110),
    pop3sPort: port("POP3S_PORT", "POP3S port", 2995),
    pop3PlaintextAuth: oneOf(
      "POP3_PLAINTEXT_AUTH",
      "where POP3 USER/PASS and AUTH PLAIN are allowed before TLS",
      ["loopback", "never", "always"] as const,
      "loopback",
    ),
    retrievalHttpPort: port("RETRIEVAL_HTTP_PORT", "HTTP mailbox API port", 8081),
    imapPort: port("IMAP_PORT", "IMAP port (STARTTLS)", 2143),
    imapsPort: port("IMAPS_PORT", "IMAPS port (implicit TLS)", 2993),
    imapMaxConnections: positiveInt("IMAP_MAX_CONNECTIONS", "concurrent IMAP connections of this process, IMAP and IMAPS together", 2000),
    pop3MaxConnections: positiveInt("POP3_MAX_CONNECTIONS", "concurrent POP3 connections of this process, POP3 and POP3S together", 1000),
  },
} as const;

export type ServiceName = keyof typeof serviceSpecs;
export const serviceNames = Object.keys(serviceSpecs) as ServiceName[];
