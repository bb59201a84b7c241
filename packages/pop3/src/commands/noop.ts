/** RFC 1939 §5 NOOP: a positive response, nothing else. */
import type { CommandHandler } from "../context.js";
import { ok } from "../response.js";

export const noop: CommandHandler = {
  name: "NOOP",
  validIn: ["TRANSACTION"],
  run: () => ok(""),
};
