import type { CommandHandler } from "../command.js";
import { astring } from "../syntax/arguments.js";
import { logIn } from "./login.js";

/** RFC 3501 §6.2.2 with SASL PLAIN (RFC 4616) and an optional initial response (SASL-IR, RFC 4959). */
export const authenticate: CommandHandler = async ({ session, args }) => {
  const mechanism = astring(args[0], "the SASL mechanism").toUpperCase();
  if (mechanism !== "PLAIN") return { status: "NO", code: "CANNOT", text: `unsupported mechanism ${mechanism}; use PLAIN` };
  let response = args[1] ? astring(args[1], "the initial response") : undefined;
  if (response === undefined) {
    await session.continue();
    const line = await session.nextLine();
    if (!line) return { status: "NO", text: "connection ended" };
    response = line.segments.join("");
  }
  if (response === "*") return { status: "BAD", text: "AUTHENTICATE cancelled" };
  const decoded = response === "=" ? "" : Buffer.from(response, "base64").toString("utf8");
  const parts = decoded.split("\0");
  if (parts.length !== 3 || !/^[A-Za-z0-9+/]*=*$/.test(response)) return { status: "BAD", text: "malformed PLAIN response" };
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return { status: "NO", code: "AUTHORIZATIONFAILED", text: "acting as another user is not allowed" };
  }
  return logIn(session, authcid, password);
};
