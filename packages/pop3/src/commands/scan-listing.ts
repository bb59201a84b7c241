/**
 * The shape LIST (RFC 1939 §5) and UIDL (RFC 1939 §7) share: with msg, one line on the
 * +OK; without, a multi-line listing of every message not marked as deleted.
 */
import { listMessages, lookUpMessage, messages, type Pop3Context } from "../context.js";
import { err, ok, type Pop3Response } from "../response.js";
import type { MaildropMessage } from "../storage.js";

export async function scanListing(
  ctx: Pop3Context,
  args: readonly string[],
  line: (n: number, m: MaildropMessage) => string,
  title: string,
): Promise<Pop3Response> {
  if (args.length > 1) return err("too many arguments");
  await listMessages(ctx);
  if (args.length === 1) {
    const found = lookUpMessage(ctx, args[0]);
    return "error" in found ? found.error : ok(line(found.n, found.message));
  }
  const lines: string[] = [];
  messages(ctx).forEach((m, i) => {
    if (!ctx.deleted.has(i + 1)) lines.push(line(i + 1, m));
  });
  return ok(title, lines);
}
