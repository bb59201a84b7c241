import { describe, expect, it } from "vitest";
import { quotaResponse, storageUnits } from "../src/commands/quota.js";
import { statusValues } from "../src/commands/status.js";
import { statusItems } from "../src/syntax/status.js";
import { parseCommand, type Token } from "../src/index.js";

function args(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

describe("QUOTA (RFC 9208)", () => {
  it.each([
    [0, 10 * 1024 * 1024, [0, 10240]],
    [1, 10 * 1024 * 1024, [1, 10240]],
    [1024, 1024, [1, 1]],
    [1025, 2047, [2, 1]],
  ])("STORAGE of %d octets used, limit %d octets: %j KiB (§5.1)", (used, limit, expected) => {
    expect(storageUnits(used, limit)).toEqual(expected);
  });

  it("answers the root \"\" with STORAGE, and nothing for an account without a quota", () => {
    expect(quotaResponse({ usedBytes: 5000, limitBytes: 1 << 20 })).toEqual([{ atom: "QUOTA" }, "", [{ atom: "STORAGE" }, 5, 1024]]);
    expect(quotaResponse({ usedBytes: 5000, limitBytes: null })).toBeUndefined();
  });

  it("STATUS takes DELETED and DELETED-STORAGE (§4.2), the latter in KiB rounded up", () => {
    const items = statusItems(args("a STATUS INBOX (DELETED DELETED-STORAGE)")[1]);
    const info = { messages: 3, recent: 0, unseen: 0, uidNext: 4, uidValidity: 1, highestModseq: 5, size: 9000, deleted: 2, deletedSize: 1500 };
    expect(statusValues(items, info, undefined)).toEqual([{ atom: "DELETED" }, 2, { atom: "DELETED-STORAGE" }, 2]);
  });
});
