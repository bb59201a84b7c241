import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { addAccount, addDomain } from "@correo/directory";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailStore, searchMessages, type SearchKey } from "@correo/mailstore";

// SEARCH answers the criteria it can in SQL; the in-process evaluation is the
// reference. Both run over the same varied mailbox and must agree on every criterion.

let infra: IsolatedInfra;
let mailboxId: number;
const COUNT = 48;
const FLAG_SETS = [[], ["\\Seen"], ["\\Seen", "\\Flagged"], ["\\Answered", "$Junk"], ["\\Deleted"], ["\\Draft", "$Label1"], ["\\Seen", "$label1", "\\Answered"]];
const DAYS = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"];

function message(i: number): Buffer {
  const lines = [`From: Sender ${i} <s${i}@example.org>`, "To: <ana@search.test>", `Subject: ${i % 2 ? "Informe de café" : "weekly report"} ${i}`];
  // Every third message has no Date: header (no sent date: SENT* never match it).
  if (i % 3) lines.push(`Date: ${["Fri, 01 Mar 2024 23:30:00 +0000", "Sat, 02 Mar 2024 00:30:00 +0200", "Mon, 04 Mar 2024 12:00:00 +0000"][i % 3 === 1 ? 0 : i % 4 ? 1 : 2]}`);
  lines.push("", `Body ${i}: ${"lorem ipsum ".repeat(i * 7)}${i % 5 === 0 ? "está listo" : "nada"}`);
  return Buffer.from(lines.join("\r\n"));
}

beforeAll(async () => {
  infra = await isolatedInfra("search");
  await addDomain(infra.pool, "search.test");
  const account = await addAccount(infra.pool, "ana@search.test", "search-password-1");
  const store = new MailStore({ pool: infra.pool });
  for (let i = 1; i <= COUNT; i++) {
    const day = DAYS[i % DAYS.length]!;
    const r = await store.append(account.id, "INBOX", message(i), { flags: FLAG_SETS[i % FLAG_SETS.length]!, internalDate: new Date(`${day}T${i % 2 ? "00:10" : "23:50"}:00Z`) });
    if ("refused" in r) throw new Error(r.text);
  }
  const { rows } = await infra.pool.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [account.id]);
  mailboxId = Number(rows[0]!.id);
  // Later changes: MODSEQ differs from the append order.
  await store.storeFlags(mailboxId, [3, 9, 27], "add", ["\\Seen"]);
});

afterAll(async () => {
  await infra?.cleanup();
});

const flagNames = ["\\Seen", "\\seen", "\\Flagged", "\\Answered", "\\Deleted", "\\Draft", "\\Recent", "$Junk", "$junk", "$LABEL1", "$absent"];

const leaf: fc.Arbitrary<SearchKey> = fc.oneof(
  fc.constant<SearchKey>({ key: "all" }),
  fc.constantFrom(...flagNames).chain((flag) => fc.boolean().map((set): SearchKey => ({ key: "flag", flag, set }))),
  fc
    .array(fc.tuple(fc.integer({ min: 1, max: COUNT + 5 }), fc.integer({ min: 0, max: 10 })), { minLength: 1, maxLength: 4 })
    .map((rs): SearchKey => ({ key: "uid", ranges: rs.map(([lo, n]) => [lo, lo + n]) })),
  // A sequence set of many single messages, as `SEARCH 1,3,5,...` becomes.
  fc.uniqueArray(fc.integer({ min: 1, max: 4 * COUNT }), { minLength: 65, maxLength: 70 }).map((u): SearchKey => ({ key: "uid", ranges: u.map((x) => [x, x]) })),
  fc.record({
    field: fc.constantFrom("internal" as const, "sent" as const),
    op: fc.constantFrom("before" as const, "on" as const, "since" as const),
    day: fc.constantFrom("2024-02-29", ...DAYS, "2024-03-05"),
  }).map((d): SearchKey => ({ key: "date", ...d })),
  fc.record({ op: fc.constantFrom("larger" as const, "smaller" as const), octets: fc.integer({ min: 100, max: 4000 }) }).map((s): SearchKey => ({ key: "size", ...s })),
  fc.integer({ min: 1, max: COUNT + 3 }).map((modseq): SearchKey => ({ key: "modseq", modseq })),
  fc.constantFrom<SearchKey>(
    { key: "header", field: "subject", value: "café" },
    { key: "header", field: "subject", value: "INFORME" },
    { key: "header", field: "from", value: "s7@example" },
    { key: "header", field: "to", value: "" },
    { key: "body", value: "está listo" },
    { key: "body", value: "report" },
    { key: "body", value: "é" },
    { key: "text", value: "weekly" },
    { key: "text", value: "LOREM IPSUM LOREM" },
    { key: "text", value: "100%_\\" },
    { key: "text", value: "sender 1" },
    { key: "text", value: "nowhere-to-be-found" },
  ),
);

const criteria: fc.Arbitrary<SearchKey> = fc.letrec<{ key: SearchKey }>((tie) => ({
  key: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    tie("key").map((inner): SearchKey => ({ key: "not", inner })),
    fc.tuple(tie("key"), tie("key")).map(([left, right]): SearchKey => ({ key: "or", left, right })),
    fc.array(tie("key"), { minLength: 1, maxLength: 3 }).map((keys): SearchKey => ({ key: "and", keys })),
  ),
})).key;

describe("SEARCH in SQL", () => {
  it("finds exactly what the in-process evaluation finds, for any criteria", async () => {
    await fc.assert(
      fc.asyncProperty(criteria, async (k) => {
        const viaSql = await searchMessages(infra.pool, mailboxId, k);
        const reference = await searchMessages(infra.pool, mailboxId, k, { sql: false });
        expect(viaSql).toEqual(reference);
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it("indexes each stored blob's folded text once, and narrows text searches by it", async () => {
    await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" });
    const { rows } = await infra.pool.query<{ n: number; blobs: number }>(
      `SELECT (SELECT count(*)::int FROM blob_search_text t WHERE t.blob_id IN (SELECT blob_id FROM mailbox_messages WHERE mailbox_id = $1)) AS n,
              (SELECT count(DISTINCT blob_id)::int FROM mailbox_messages WHERE mailbox_id = $1) AS blobs`,
      [mailboxId],
    );
    expect(rows[0]!.n).toBe(rows[0]!.blobs);
    // Subject "Informe de café 5": case-insensitive, and the encoded words decoded.
    const { rows: one } = await infra.pool.query<{ text: string }>(
      "SELECT t.text FROM blob_search_text t JOIN mailbox_messages m ON m.blob_id = t.blob_id WHERE m.mailbox_id = $1 AND m.uid = 5",
      [mailboxId],
    );
    expect(one[0]!.text.split("\n")).toContain("informe de café 5");
    // The index decides which messages are read: a blob whose indexed text lacks the
    // needle is not a candidate, whatever the message says.
    await infra.pool.query(
      "UPDATE blob_search_text SET text = 'nothing here' WHERE blob_id = (SELECT blob_id FROM mailbox_messages WHERE mailbox_id = $1 AND uid = 2)",
      [mailboxId],
    );
    try {
      expect(await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" })).not.toContain(2);
      expect(await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" }, { sql: false })).toContain(2);
    } finally {
      await infra.pool.query(
        "DELETE FROM blob_search_text WHERE blob_id = (SELECT blob_id FROM mailbox_messages WHERE mailbox_id = $1 AND uid = 2)",
        [mailboxId],
      );
    }
    // The next text search puts the row back: every message is indexed before narrowing.
    expect(await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" })).toContain(2);
  });

  it("finds a text search's candidates through the trigram index, not by scanning every text", async () => {
    await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" }); // every blob indexed
    // Scans of blob_search_text by one statement, from this transaction's own counters.
    const scans = async (sql: string) => {
      const c = await infra.pool.connect();
      try {
        await c.query("BEGIN");
        const counters = async () =>
          (
            await c.query<{ seq: number; idx: number }>(
              "SELECT seq_scan::int AS seq, idx_scan::int AS idx FROM pg_stat_xact_user_tables WHERE relname = 'blob_search_text'",
            )
          ).rows[0]!;
        const before = await counters();
        const found = (await c.query(sql, ["%weekly%"])).rowCount;
        const after = await counters();
        return { found, seq: after.seq - before.seq, idx: after.idx - before.idx };
      } finally {
        await c.query("ROLLBACK");
        c.release();
      }
    };
    const inline = await scans("SELECT blob_id FROM blob_search_text WHERE text LIKE $1 OR text IS NULL");
    const viaIndex = await scans("SELECT search_text_candidates($1)");
    expect(viaIndex.found).toBe(inline.found);
    expect(viaIndex.found).toBeGreaterThan(0);
    // The planner scans the whole table when asked inline (the reason for the function)…
    expect(inline.seq).toBe(1);
    // …and the function reads the indexes (trigram and NULL text) instead.
    expect(viaIndex).toMatchObject({ seq: 0, idx: 2 });
  });

  it("keeps a blob too large to index (NULL text) a candidate of every text search", async () => {
    await infra.pool.query(
      "UPDATE blob_search_text SET text = NULL WHERE blob_id = (SELECT blob_id FROM mailbox_messages WHERE mailbox_id = $1 AND uid = 4)",
      [mailboxId],
    );
    try {
      expect(await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" })).toContain(4);
      expect(await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" })).toEqual(
        await searchMessages(infra.pool, mailboxId, { key: "text", value: "weekly" }, { sql: false }),
      );
    } finally {
      await infra.pool.query("DELETE FROM blob_search_text WHERE text IS NULL");
    }
  });

  it("answers UNSEEN, SEEN and keyword searches from the stored flags", async () => {
    const unseen = await searchMessages(infra.pool, mailboxId, { key: "flag", flag: "\\Seen", set: false });
    const seen = await searchMessages(infra.pool, mailboxId, { key: "flag", flag: "\\Seen", set: true });
    expect(unseen.length + seen.length).toBe(COUNT);
    expect(seen).toContain(3);
    expect(unseen).not.toContain(3);
    // Keywords compare case-insensitively: $Label1 and $label1 are the same keyword.
    const labelled = await searchMessages(infra.pool, mailboxId, { key: "flag", flag: "$LABEL1", set: true });
    expect(labelled).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1).filter((i) => i % FLAG_SETS.length === 5 || i % FLAG_SETS.length === 6));
  });
});
