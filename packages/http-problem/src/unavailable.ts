/** Socket errors of a connection to a server that is down, restarting or unreachable. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

/**
 * PostgreSQL SQLSTATEs that mean "the server cannot serve you now": class 08
 * (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now),
 * 53300 (too many connections).
 */
const SQLSTATE = /^(08...|57P0[1-3]|53300)$/;

/** What pg, ioredis and the broker say when the connection, not the request, failed. */
const MESSAGES = [
  /Connection terminated/i, // pg: "Connection terminated unexpectedly", "… due to connection timeout"
  /timeout exceeded when trying to connect/i, // pg-pool: every client busy or none can connect
  /is not queryable/i, // pg: a client that lost its connection
  /is not currently accepting connections/i, // PostgreSQL: ALLOW_CONNECTIONS false
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Connection is closed/i, // ioredis
  /not connected to RabbitMQ/i,
];

/**
 * True when `err` (or an error it wraps as `cause`) says that a server Correo depends
 * on (PostgreSQL, Redis, RabbitMQ) could not be reached or dropped the connection: the
 * request may succeed if tried again, so it is answered 503 with Retry-After, not 500.
 */
export function isDependencyUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, name, errors } = e as { code?: unknown; message?: unknown; name?: unknown; errors?: unknown };
    if (typeof code === "string" && (SOCKET_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (name === "MaxRetriesPerRequestError" || name === "BrokerUnavailableError") return true;
    if (typeof message === "string" && MESSAGES.some((m) => m.test(message))) return true;
    // AggregateError (a host name that resolves to several addresses, each refused).
    if (Array.isArray(errors) && errors.some((inner) => isDependencyUnavailable(inner))) return true;
  }
  return false;
}
