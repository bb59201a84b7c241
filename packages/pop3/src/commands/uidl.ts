/** RFC 1939 §7 UIDL [msg]: unique-id listings, "n unique-id". */
import type { CommandHandler } from "../context.js";
import { scanListing } from "./scan-listing.js";

export const uidl: CommandHandler = {
  name: "UIDL",
  validIn: ["TRANSACTION"],
  run: (ctx, args) => scanListing(ctx, args, (n, m) => `${n} ${m.uniqueId}`, "unique-id listing follows"),
};
