import type { CommandHandler } from "../command.js";
import { decodePlainResponse, parseAuthenticate } from "../syntax/authenticate.js";
import { logIn } from "./login.js";

/** RFC 3501 §6.2.2 with SASL PLAIN (RFC 4616) and an optional initial response (SASL-IR, RFC 4959). */
export const authenticate: CommandHandler = async ({ session, args }) => {
  let response = parseAuthenticate(args).initialResponse;
  if (response === undefined) {
    await session.continue();
    const line = await session.nextLine();
    if (!line) return { status: "NO", text: "connection ended" };
    response = line.segments.join("");
  }
  const { authzid, authcid, password } = decodePlainResponse(response);
  if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return { status: "NO", code: "AUTHORIZATIONFAILED", text: "acting as another user is not allowed" };
  }
  return logIn(session, authcid, password);
};
