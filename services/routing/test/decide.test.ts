import { describe, expect, it } from "vitest";
import { decideRoute } from "../src/decide.js";

const local = { kind: "local", accountId: 7, address: "bob@example.test" } as const;
const facts = (status: Parameters<typeof decideRoute>[0]["status"]) => ({ recipient: "bob@example.test", status });

describe("decideRoute", () => {
  it("delivers to the INBOX of an existing account of a hosted domain", () => {
    expect(decideRoute(facts(local))).toEqual({ kind: "local", accountId: 7, account: "bob@example.test", mailbox: "INBOX" });
  });

  it("bounces an unknown user of a hosted domain with 550 5.1.1", () => {
    expect(decideRoute(facts({ kind: "unknown", domain: "example.test" }))).toMatchObject({ kind: "bounce", code: 550, enhanced: "5.1.1" });
  });

  it("bounces a disabled account with 5.2.1", () => {
    expect(decideRoute(facts({ kind: "disabled", accountId: 7 }))).toMatchObject({ enhanced: "5.2.1" });
  });

  it("relays other domains", () => {
    expect(decideRoute(facts({ kind: "not-hosted", domain: "elsewhere.test" }))).toEqual({ kind: "remote", domain: "elsewhere.test" });
  });

  it("expands aliases and catch-alls", () => {
    expect(decideRoute(facts({ kind: "alias", address: "team@example.test", targets: ["a@example.test"], catchAll: false }))).toEqual({
      kind: "expand",
      alias: "team@example.test",
      targets: ["a@example.test"],
      catchAll: false,
    });
  });

  it("bounces an address that cannot be parsed with 5.1.3", () => {
    expect(decideRoute(facts({ kind: "invalid" }))).toMatchObject({ enhanced: "5.1.3" });
  });
});

describe("quarantined mail (issue 14)", () => {
  it("goes to the Junk folder of a local recipient, and to INBOX otherwise", () => {
    const status = { kind: "local", accountId: 7, address: "bob@hosted.test" } as const;
    expect(decideRoute({ recipient: "bob@hosted.test", status, quarantine: true })).toMatchObject({ kind: "local", mailbox: "Junk" });
    expect(decideRoute({ recipient: "bob@hosted.test", status })).toMatchObject({ kind: "local", mailbox: "INBOX" });
  });
});
