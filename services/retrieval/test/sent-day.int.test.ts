import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailStore, searchMessages } from "@correo/mailstore";

// SENTON and friends compare the day the Date: header names in its own zone (RFC 3501
// §6.4.4), from migration 014's sent_day; the SQL and in-process paths must agree.

const DATES = [
  "Sun, 25 Mar 2007 00:00:00 +0200", // 1: 24 March in UTC
  "Sat, 24 Mar 2007 23:30:00 -0300 (BRT)", // 2: 25 March in UTC
  "Sat, 24 Mar 2007 23:30:00 EST", // 3: obsolete zone name, 25 March in UTC
  "Sun, 25 Mar 2007 02:00:00 +0530", // 4: 24 March in UTC
  "25 Mar 2007 23:59:59 -0000", // 5: no day name, "no zone information"
  undefined, // 6: no Date: header
  "not a date", // 7
];

let infra: IsolatedInfra;
let mailboxId: number;

beforeAll(async () => {
  infra = await isolatedInfra("sentday");
  await addDomain(infra.pool, "sentday.test");
  const account = await addAccount(infra.pool, "ana@sentday.test", "sentday-password-1");
  const store = new MailStore({ pool: infra.pool });
  for (const [i, date] of DATES.entries()) {
    const header = [`From: s${i}@example.org`, `Subject: ${i + 1}`, ...(date ? [`Date: ${date}`] : [])];
    await store.append(account.id, "INBOX", Buffer.from([...header, "", "x", ""].join("\r\n")), { flags: [] });
  }
  const { rows } = await infra.pool.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [account.id]);
  mailboxId = Number(rows[0]!.id);
});

afterAll(async () => {
  await infra?.cleanup();
});

describe("SENT* on the Date: header's own day", () => {
  it.each([true, false])("finds the written day, in SQL (%s) and in process", async (sql) => {
    const on = (day: string) => searchMessages(infra.pool, mailboxId, { key: "date", field: "sent", op: "on", day }, { sql });
    expect(await on("2007-03-24")).toEqual([2, 3]);
    expect(await on("2007-03-25")).toEqual([1, 4, 5]);
    expect(await searchMessages(infra.pool, mailboxId, { key: "date", field: "sent", op: "before", day: "2007-03-25" }, { sql })).toEqual([2, 3]);
    expect(await searchMessages(infra.pool, mailboxId, { key: "date", field: "sent", op: "since", day: "2007-03-25" }, { sql })).toEqual([1, 4, 5]);
    expect(await searchMessages(infra.pool, mailboxId, { key: "not", inner: { key: "date", field: "sent", op: "since", day: "2000-01-01" } }, { sql })).toEqual([6, 7]);
  });
});
