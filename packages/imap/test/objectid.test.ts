import { describe, expect, it } from "vitest";
import { blobIdOfEmailId, emailObjectId, isObjectId, mailboxObjectId } from "../src/objectid.js";

const BLOB = "47f9dd4c65d279aa0ef3f9b779c7fbc85adf36662548bdfc1c11a0cebb49ab22";

describe("OBJECTID (RFC 8474 §7 objectid)", () => {
  it("names mailboxes by row id and messages by content id, both valid objectids", () => {
    expect(mailboxObjectId(12)).toBe("F12");
    expect(emailObjectId(BLOB)).toBe(`M${BLOB}`);
    expect(isObjectId(mailboxObjectId(12))).toBe(true);
    expect(isObjectId(emailObjectId(BLOB))).toBe(true);
  });

  it.each([
    ["F2212ea87-6097-4256-9d51-71338625", true],
    ["a_b-C9", true],
    ["x".repeat(255), true],
    ["x".repeat(256), false],
    ["", false],
    ["has space", false],
    ["dot.ted", false],
    ["M+plus", false],
  ])("objectid %j: %s", (id, ok) => {
    expect(isObjectId(id)).toBe(ok);
  });

  it("reads the blob id back out of an EMAILID, and nothing out of another id", () => {
    expect(blobIdOfEmailId(`M${BLOB}`)).toBe(BLOB);
    expect(blobIdOfEmailId("F12")).toBeUndefined();
    expect(blobIdOfEmailId(`M${BLOB.slice(1)}`)).toBeUndefined();
  });
});
