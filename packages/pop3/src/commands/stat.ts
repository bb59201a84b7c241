/** RFC 1939 §5 STAT: "+OK nn mm", the messages not marked as deleted and their octets. */
import { totals, type CommandHandler } from "../context.js";
import { ok } from "../response.js";

export const stat: CommandHandler = {
  name: "STAT",
  validIn: ["TRANSACTION"],
  run(ctx) {
    const { count, octets } = totals(ctx);
    return ok(`${count} ${octets}`);
  },
};
