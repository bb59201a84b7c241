/**
 * RFC 5034 §4 AUTH mechanism [initial-response], with SASL PLAIN (RFC 4616). Without an
 * initial response the server sends an empty challenge and the client's next line is
 * its response (`continueAuth`). A bare AUTH lists the mechanisms (as clients of the
 * older RFC 1734 expect).
 */
import { loginAllowed, SASL_MECHANISMS, type CommandHandler, type Pop3Context } from "../context.js";
import { login, PLAINTEXT_REFUSED } from "../login.js";
import { challenge, err, ok, type Pop3Response } from "../response.js";
import { ResponseCode, withCode } from "../response-codes.js";
import { decodePlain } from "../sasl-plain.js";

/** RFC 5034 §4 lifts the 255-octet limit for SASL responses; this one is ours. */
export const MAX_SASL_RESPONSE_OCTETS = 2048;

export const auth: CommandHandler = {
  name: "AUTH",
  validIn: ["AUTHORIZATION"],
  async run(ctx, args) {
    if (args.length === 0) return ok("SASL mechanisms follow", loginAllowed(ctx) ? [...SASL_MECHANISMS] : []);
    if (args.length > 2) return err("AUTH takes a mechanism and an optional initial response");
    const mechanism = args[0]!.toUpperCase();
    if (mechanism !== "PLAIN") return err(`unsupported SASL mechanism ${args[0]}`);
    if (!loginAllowed(ctx)) return err(PLAINTEXT_REFUSED);
    if (args.length === 2) return plainResponse(ctx, args[1]!);
    ctx.saslPending = "PLAIN";
    return challenge("");
  },
};

/** The client's line after the empty challenge: its PLAIN response, or "*" to cancel. */
export async function continueAuth(ctx: Pop3Context, line: string): Promise<Pop3Response> {
  ctx.saslPending = undefined;
  // RFC 5034 §4: "*" cancels the exchange, answered with -ERR.
  if (line === "*") return err("authentication cancelled");
  if (Buffer.byteLength(line, "utf8") > MAX_SASL_RESPONSE_OCTETS) return err("SASL response too long, authentication cancelled");
  return plainResponse(ctx, line);
}

async function plainResponse(ctx: Pop3Context, response: string): Promise<Pop3Response> {
  const decoded = decodePlain(response);
  if (!decoded.ok) return err(decoded.error);
  const { authzid, authcid, password } = decoded.credentials;
  // RFC 4616 §2: acting as another identity needs an authorization Correo does not grant.
  if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return err(withCode(ResponseCode.auth, "authorization identity must be empty or the user's own"));
  }
  return login(ctx, authcid, password);
}
