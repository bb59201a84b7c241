import { hostname as osHostname } from "node:os";
import {
  duration,
  hostname,
  namePrefix,
  oneOf,
  optionalText,
  port,
  positiveInt,
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
  listenHost: text("LISTEN_HOST", "address the service's listeners bind to", "127.0.0.1"),
} as const;

function opsPort(fallback: number) {
  return port("OPS_PORT", "port of /healthz, /readyz and /metrics", fallback);
}

/** The certificate of STARTTLS and implicit-TLS listeners; unset: self-signed for the host name. */
const tlsSpec = {
  tlsCertPath: optionalText("TLS_CERT_PATH", "PEM certificate chain for TLS listeners; unset: a self-signed one"),
  tlsKeyPath: optionalText("TLS_KEY_PATH", "PEM private key of TLS_CERT_PATH"),
} as const;

function redriveAfter() {
  return duration("REDRIVE_AFTER", "how long a stage may take before an unfinished delivery is re-driven", "2m");
}

/** The five services' own settings; each also reads `infraSpec`. Defaults are for local use. */
export const serviceSpecs = {
  submission: {
    ...infraSpec,
    ...tlsSpec,
    opsPort: opsPort(9101),
    httpPort: port("SUBMISSION_HTTP_PORT", "HTTP API port", 8080),
    maxMessageSize: positiveInt("MAX_MESSAGE_SIZE", "largest accepted message, in bytes", 25 * 1024 * 1024),
    outboxSweepInterval: duration("OUTBOX_SWEEP_INTERVAL", "how often unconfirmed events are republished", "5s"),
    redriveAfter: redriveAfter(),
  },
  routing: {
    ...infraSpec,
    opsPort: opsPort(9102),
    outboxSweepInterval: duration("OUTBOX_SWEEP_INTERVAL", "how often unconfirmed events are republished", "5s"),
    redriveInterval: duration("REDRIVE_INTERVAL", "how often overdue deliveries are re-driven", "30s"),
    redriveAfter: redriveAfter(),
  },
  "relay-queue": {
    ...infraSpec,
    opsPort: opsPort(9103),
    dnsServers: optionalText("DNS_SERVERS", "resolvers as ip[:port], comma-separated; default the system's"),
    relaySmtpPort: port("RELAY_SMTP_PORT", "port of remote MX hosts", 25),
    minBackoff: duration("RELAY_MIN_BACKOFF", "first retry delay", "60s"),
    maxBackoff: duration("RELAY_MAX_BACKOFF", "longest retry delay", "1h"),
    maxLifetime: duration("RELAY_MAX_LIFETIME", "how long a message is retried before it bounces", "5d"),
    delayWarning: duration("RELAY_DELAY_WARNING", "when a 'delayed' DSN is sent", "4h"),
    connectTimeout: duration("RELAY_CONNECT_TIMEOUT", "timeout to connect to a remote MX", "30s"),
  },
  mailbox: {
    ...infraSpec,
    opsPort: opsPort(9104),
    outboxSweepInterval: duration("OUTBOX_SWEEP_INTERVAL", "how often unconfirmed events are republished", "5s"),
  },
  retrieval: {
    ...infraSpec,
    ...tlsSpec,
    opsPort: opsPort(9105),
    pop3Port: port("POP3_PORT", "POP3 port", 2110),
  },
} as const;

export type ServiceName = keyof typeof serviceSpecs;
export const serviceNames = Object.keys(serviceSpecs) as ServiceName[];
