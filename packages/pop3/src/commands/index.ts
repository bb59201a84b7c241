/** Every command this server implements, by keyword (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH). */
import type { CommandHandler } from "../context.js";
import { auth } from "./auth.js";
import { capa } from "./capa.js";
import { dele } from "./dele.js";
import { list } from "./list.js";
import { noop } from "./noop.js";
import { pass } from "./pass.js";
import { quit } from "./quit.js";
import { retr } from "./retr.js";
import { rset } from "./rset.js";
import { stat } from "./stat.js";
import { stls } from "./stls.js";
import { top } from "./top.js";
import { uidl } from "./uidl.js";
import { user } from "./user.js";

export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map(
  [user, pass, stls, auth, quit, capa, stat, list, uidl, retr, top, dele, noop, rset].map((c) => [c.name, c]),
);
