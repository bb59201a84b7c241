import type { CommandHandler } from "../command.js";

/** RFC 3501 §6.1.3 */
export const logout: CommandHandler = async ({ session }) => {
  await session.write(Buffer.from("* BYE Correo IMAP server logging out\r\n"));
  session.unselect();
  session.state = "logout";
  return { status: "OK", text: "LOGOUT completed" };
};
