/**
 * The IMAP server's storage interface (packages/imap) on Correo's mailbox store
 * (packages/mailstore, PostgreSQL) and directory. Nothing protocol-specific here.
 */
import type { Pool } from "@correo/db";
import { authenticate, findAccount, type AuthCache } from "@correo/directory";
import { firstAbove, type ImapStorage, type ImapUser } from "@correo/imap";
import { binaryPartsAsBase64, decodeWords, isRefusal, mailboxAccessKey, partText, resetAccessKeys, type MailStore } from "@correo/mailstore";

/** `authCache`: logins verified a moment ago (AUTH_CACHE_TTL), shared with POP3 and HTTP. */
export function mailstoreAdapter(pool: Pool, store: MailStore, authCache?: AuthCache): ImapStorage {
  const mailbox = async (user: ImapUser, name: string) => store.findMailbox(user.id, name);
  const missing = (name: string) => ({ refused: "nonexistent" as const, text: `mailbox ${name} does not exist` });
  return {
    async authenticate(user, password) {
      const account = await authenticate(pool, user, password, { cache: authCache });
      return account && account.enabled ? { id: account.id, address: account.address } : undefined;
    },
    async listMailboxes(user) {
      return (await store.listMailboxes(user.id)).map((m) => ({ name: m.name, specialUse: m.specialUse, subscribed: m.subscribed }));
    },
    listSubscriptions: (user) => store.listSubscriptions(user.id),
    async createMailbox(user, name, specialUse) {
      const r = await store.createMailbox(user.id, name, specialUse ?? null);
      return isRefusal(r) ? r : true;
    },
    deleteMailbox: (user, name) => store.deleteMailbox(user.id, name),
    renameMailbox: (user, from, to) => store.renameMailbox(user.id, from, to),
    setSubscribed: (user, name, subscribed) => store.setSubscribed(user.id, name, subscribed),
    async status(user, name) {
      const box = await mailbox(user, name);
      return box ? store.status(box) : missing(name);
    },
    async select(user, name, opts) {
      const box = await mailbox(user, name);
      if (!box) return missing(name);
      const snap = await store.snapshot(box);
      const last = snap.uids[snap.uids.length - 1] ?? 0;
      const claimedBefore = await store.claimRecent(box.id, last, opts.claimRecent);
      return {
        // The UIDs are ascending: the recent ones are a tail, found by bisection, not a filter of 100 000.
        recentUids: snap.uids.slice(firstAbove(snap.uids, claimedBefore)),
        mailboxId: box.id,
        uidValidity: box.uidValidity,
        uidNext: snap.uidNext,
        highestModseq: snap.highestModseq,
        uids: snap.uids,
        firstUnseenUid: snap.firstUnseenUid,
        keywordsInUse: snap.keywordsInUse,
      };
    },
    fetch: (mailboxId, uids, opts) => store.fetch(mailboxId, uids, opts),
    fetchSummaries: (mailboxId, uids) => store.fetchSummaries(mailboxId, uids),
    fetchFlags: (mailboxId, uids) => store.fetchFlags(mailboxId, uids),
    store: (mailboxId, uids, mode, flags, unchangedSince) => store.storeFlags(mailboxId, uids, mode, flags, unchangedSince),
    search: (mailboxId, criteria) => store.search(mailboxId, criteria),
    copy: (user, mailboxId, uids, destination) => store.copy(user.id, mailboxId, uids, destination),
    move: (user, mailboxId, uids, destination) => store.move(user.id, mailboxId, uids, destination),
    expunge: (mailboxId, uids) => store.expunge(mailboxId, uids),
    append: (user, name, messages) =>
      store.appendMany(
        user.id,
        name,
        messages.map((m) => {
          // RFC 3516 §4.2: binary parts of a literal8 APPEND are stored base64-encoded.
          const raw = m.binary ? binaryPartsAsBase64(m.raw) : m.raw;
          return m.internalDate ? { raw, flags: m.flags, internalDate: m.internalDate } : { raw, flags: m.flags };
        }),
      ),
    decodeHeader: (value) => decodeWords(value),
    quota: (user) => store.quota(user.id),
    partText: (raw, part) => partText(raw, part),
    changesSince: (mailboxId, modseq) => store.changesSince(mailboxId, modseq),
    claimRecent: (mailboxId, upToUid, claim) => store.claimRecent(mailboxId, upToUid, claim),
    async findUser(address) {
      const account = await findAccount(pool, address);
      return account && account.enabled ? { id: account.id, address: account.address } : undefined;
    },
    mailboxAccessKey: (user, name, create) => mailboxAccessKey(pool, user.id, name, create),
    resetAccessKeys: (user, name) => resetAccessKeys(pool, user.id, name),
  };
}
