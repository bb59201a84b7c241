/**
 * The command table: which handler runs each command, and in which states (RFC 3501 §6).
 * Each command that takes arguments has its parser beside it in syntax/<command>.ts (pure:
 * tokens in, a request out; syntax/mailboxes.ts for CREATE, DELETE, RENAME and (UN)SUBSCRIBE).
 * These take none and so have no parser: CAPABILITY, NOOP, LOGOUT, CHECK, CLOSE, UNSELECT,
 * NAMESPACE and IDLE read no arguments (and ignore any sent); STARTTLS refuses any with BAD.
 */
import type { CommandSpec } from "../command.js";
import { append } from "./append.js";
import { authenticate } from "./authenticate.js";
import { cancelupdate } from "./cancelupdate.js";
import { capability } from "./capability.js";
import { check } from "./check.js";
import { close } from "./close.js";
import { compress } from "./compress.js";
import { copy } from "./copy.js";
import { enable } from "./enable.js";
import { expunge } from "./expunge.js";
import { fetch } from "./fetch.js";
import { id } from "./id.js";
import { idle } from "./idle.js";
import { list } from "./list.js";
import { login } from "./login.js";
import { logout } from "./logout.js";
import { create, remove, rename, subscribe } from "./mailboxes.js";
import { namespace } from "./namespace.js";
import { noop } from "./noop.js";
import { notify } from "./notify.js";
import { getquota, getquotaroot, setquota } from "./quota.js";
import { search } from "./search.js";
import { select } from "./select.js";
import { sort } from "./sort.js";
import { starttls } from "./starttls.js";
import { status } from "./status.js";
import { store } from "./store.js";
import { thread } from "./thread.js";
import { genurlauth, resetkey, urlfetch } from "./urlauth.js";

const any = ["not-authenticated", "authenticated", "selected"] as const;
const authed = ["authenticated", "selected"] as const;
const selected = ["selected"] as const;

export const commandTable: Record<string, CommandSpec> = {
  CAPABILITY: { states: [...any], handler: capability },
  NOOP: { states: [...any], handler: noop },
  LOGOUT: { states: [...any], handler: logout },
  ID: { states: [...any], handler: id },
  STARTTLS: { states: ["not-authenticated"], handler: starttls },
  LOGIN: { states: ["not-authenticated"], handler: login },
  AUTHENTICATE: { states: ["not-authenticated"], handler: authenticate },
  ENABLE: { states: [...authed], handler: enable },
  SELECT: { states: [...authed], handler: select },
  EXAMINE: { states: [...authed], handler: select },
  CREATE: { states: [...authed], handler: create },
  DELETE: { states: [...authed], handler: remove },
  RENAME: { states: [...authed], handler: rename },
  SUBSCRIBE: { states: [...authed], handler: subscribe },
  UNSUBSCRIBE: { states: [...authed], handler: subscribe },
  LIST: { states: [...authed], handler: list },
  LSUB: { states: [...authed], handler: list },
  NAMESPACE: { states: [...authed], handler: namespace },
  STATUS: { states: [...authed], handler: status },
  APPEND: { states: [...authed], handler: append },
  IDLE: { states: [...authed], handler: idle },
  NOTIFY: { states: [...authed], handler: notify },
  GENURLAUTH: { states: [...authed], handler: genurlauth },
  URLFETCH: { states: [...authed], handler: urlfetch },
  RESETKEY: { states: [...authed], handler: resetkey },
  CHECK: { states: [...selected], handler: check },
  COMPRESS: { states: [...authed], handler: compress },
  GETQUOTA: { states: [...authed], handler: getquota },
  GETQUOTAROOT: { states: [...authed], handler: getquotaroot },
  SETQUOTA: { states: [...authed], handler: setquota },
  CLOSE: { states: [...selected], handler: close },
  UNSELECT: { states: [...selected], handler: close },
  EXPUNGE: { states: [...selected], handler: expunge },
  "UID EXPUNGE": { states: [...selected], handler: expunge },
  SEARCH: { states: [...selected], handler: search, noExpungeUpdates: true },
  "UID SEARCH": { states: [...selected], handler: search },
  SORT: { states: [...selected], handler: sort, noExpungeUpdates: true },
  "UID SORT": { states: [...selected], handler: sort },
  THREAD: { states: [...selected], handler: thread, noExpungeUpdates: true },
  "UID THREAD": { states: [...selected], handler: thread },
  CANCELUPDATE: { states: [...selected], handler: cancelupdate },
  FETCH: { states: [...selected], handler: fetch, noExpungeUpdates: true },
  "UID FETCH": { states: [...selected], handler: fetch },
  STORE: { states: [...selected], handler: store, noExpungeUpdates: true },
  "UID STORE": { states: [...selected], handler: store },
  COPY: { states: [...selected], handler: copy },
  "UID COPY": { states: [...selected], handler: copy },
  MOVE: { states: [...selected], handler: copy },
  "UID MOVE": { states: [...selected], handler: copy },
};
