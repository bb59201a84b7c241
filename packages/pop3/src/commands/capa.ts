/**
 * RFC 2449 §5 CAPA, per state (§6): STLS while it can still be used (RFC 2595 §4); USER
 * and SASL only in AUTHORIZATION and only where a password may be sent (auth-policy.ts),
 * so a client that reads CAPA before and after STLS sees them appear with TLS.
 * PIPELINING holds because the listener answers commands strictly in order.
 */
import { loginAllowed, SASL_MECHANISMS, type CommandHandler } from "../context.js";
import { ok } from "../response.js";

export const capa: CommandHandler = {
  name: "CAPA",
  validIn: ["AUTHORIZATION", "TRANSACTION"],
  run(ctx) {
    const authorization = ctx.state === "AUTHORIZATION";
    const login = authorization && loginAllowed(ctx);
    const caps = [
      ...(authorization && !ctx.tls && (ctx.options.security?.stlsAvailable ?? false) ? ["STLS"] : []),
      ...(login ? ["USER", `SASL ${SASL_MECHANISMS.join(" ")}`] : []),
      "TOP",
      "UIDL",
      "RESP-CODES",
      "AUTH-RESP-CODE",
      "PIPELINING",
      "IMPLEMENTATION Correo",
    ];
    return ok("capability list follows", caps);
  },
};
