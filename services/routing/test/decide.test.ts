import { describe, expect, it } from "vitest";
import { decideRoute } from "../src/decide.js";

const base = { recipient: "bob@example.test", domain: "example.test", hosted: true, account: { id: 7, enabled: true } };

describe("decideRoute", () => {
  it("delivers to the INBOX of an existing account of a hosted domain", () => {
    expect(decideRoute(base)).toEqual({ kind: "local", accountId: 7, mailbox: "INBOX" });
  });

  it("bounces an unknown user of a hosted domain with 550 5.1.1", () => {
    expect(decideRoute({ ...base, account: undefined })).toMatchObject({ kind: "bounce", code: 550, enhanced: "5.1.1" });
  });

  it("bounces a disabled account with 5.2.1", () => {
    expect(decideRoute({ ...base, account: { id: 7, enabled: false } })).toMatchObject({ enhanced: "5.2.1" });
  });

  it("relays other domains", () => {
    expect(decideRoute({ ...base, domain: "elsewhere.test", hosted: false, account: undefined })).toEqual({
      kind: "remote",
      domain: "elsewhere.test",
    });
  });

  it("bounces an address that cannot be parsed with 5.1.3", () => {
    expect(decideRoute({ ...base, domain: undefined, hosted: false })).toMatchObject({ enhanced: "5.1.3" });
  });
});
