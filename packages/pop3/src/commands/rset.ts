/** RFC 1939 §5 RSET: every message marked as deleted is unmarked. */
import { totals, type CommandHandler } from "../context.js";
import { ok } from "../response.js";

export const rset: CommandHandler = {
  name: "RSET",
  validIn: ["TRANSACTION"],
  run(ctx) {
    ctx.deleted.clear();
    const { count, octets } = totals(ctx);
    return ok(`maildrop has ${count} messages (${octets} octets)`);
  },
};
