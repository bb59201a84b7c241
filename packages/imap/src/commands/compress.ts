import { statusLine } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { parseCompress } from "../syntax/compress.js";

/**
 * RFC 4978 COMPRESS DEFLATE: the tagged OK goes out uncompressed, then both directions are
 * raw DEFLATE (RFC 1951) from the next octet on (§3); the connection code does the
 * framing. Once on, it stays on: a second COMPRESS is NO [COMPRESSIONACTIVE] (§3).
 */
export const compress: CommandHandler = async ({ session, tag, args }) => {
  if (!session.opts.io.startCompression) return { status: "BAD", text: "unknown command COMPRESS" };
  parseCompress(args);
  if (session.compressed) return { status: "NO", code: "COMPRESSIONACTIVE", text: "DEFLATE is already active" };
  await session.opts.io.startCompression(() => session.write(statusLine(tag, { status: "OK", text: "DEFLATE active" })));
  session.compressed = true;
  return { status: "OK", text: "DEFLATE active", written: true };
};
