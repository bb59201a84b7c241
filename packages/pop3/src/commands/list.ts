/** RFC 1939 §5 LIST [msg]: scan listings, "n size". */
import type { CommandHandler } from "../context.js";
import { scanListing } from "./scan-listing.js";

export const list: CommandHandler = {
  name: "LIST",
  validIn: ["TRANSACTION"],
  run: (ctx, args) => scanListing(ctx, args, (n, m) => `${n} ${m.size}`, "scan listing follows"),
};
