/**
 * RFC 9208 QUOTA: one quota root per account, named "" (§3.2: every mailbox of the
 * account is under it), with the STORAGE resource (§5.1: the sum of the messages'
 * RFC822.SIZE, in units of 1024 octets). Accounts without a quota have no root.
 * Quotas are set by the administrator (`pnpm correo account …`), so SETQUOTA is NO.
 */
import { atom, type ImapValue } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { isRefusal, type QuotaInfo } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { parseGetquota, parseGetquotaroot, parseSetquota } from "../syntax/quota.js";
import { nameValue } from "./list.js";

export const QUOTA_ROOT = "";

/** RFC 9208 §5.1: usage rounds up (a 1-octet message uses a unit), the limit rounds down; both in KiB. */
export function storageUnits(usedBytes: number, limitBytes: number): [used: number, limit: number] {
  return [Math.ceil(usedBytes / 1024), Math.floor(limitBytes / 1024)];
}

/** The `* QUOTA` response of the account's root, or undefined when it has no quota (§4.3.1). */
export function quotaResponse(q: QuotaInfo): ImapValue[] | undefined {
  if (q.limitBytes === null) return undefined;
  const [used, limit] = storageUnits(q.usedBytes, q.limitBytes);
  return [atom("QUOTA"), QUOTA_ROOT, [atom("STORAGE"), used, limit]];
}

/** QUOTA is advertised only over a storage that knows quotas; without one these commands do not exist. */
const unknown = (name: string) => ({ status: "BAD" as const, text: `unknown command ${name}` });

/** §4.1.1 GETQUOTA root */
export const getquota: CommandHandler = async ({ session, args, name }) => {
  if (!session.storage.quota) return unknown(name);
  const { root } = parseGetquota(args);
  const response = root === QUOTA_ROOT ? quotaResponse(await session.storage.quota!(session.user!)) : undefined;
  if (!response) return { status: "NO", code: "NONEXISTENT", text: `no quota root ${JSON.stringify(root)}` };
  await session.send(response);
  return { status: "OK", text: "GETQUOTA completed" };
};

/** §4.1.2 GETQUOTAROOT mailbox: the roots of the mailbox (none, or ""), then each root's QUOTA. */
export const getquotaroot: CommandHandler = async ({ session, args, name: command }) => {
  if (!session.storage.quota) return unknown(command);
  const name = mailboxName(session, parseGetquotaroot(args).mailbox);
  const [status, quota] = await Promise.all([session.storage.status(session.user!, name), session.storage.quota!(session.user!)]);
  if (isRefusal(status)) return { status: "NO", code: "NONEXISTENT", text: status.text };
  const response = quotaResponse(quota);
  await session.send([atom("QUOTAROOT"), nameValue(session, name), ...(response ? [QUOTA_ROOT] : [])]);
  if (response) await session.send(response);
  return { status: "OK", text: "GETQUOTAROOT completed" };
};

/** §4.1.3 SETQUOTA: the administrator sets quotas here, not the user. */
export const setquota: CommandHandler = async ({ session, args, name }) => {
  if (!session.storage.quota) return unknown(name);
  parseSetquota(args);
  return { status: "NO", code: "NOPERM", text: "quotas are set by the administrator" };
};
