import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { addAccount, addAlias, addDomain, postmasterForm, resolveRecipient, setAccountEnabled, setCatchAll } from "../src/index.js";

/** RFC 5321 §4.5.1: postmaster, bare and at every hosted domain, against a real directory. */
let infra: IsolatedInfra;

beforeAll(async () => {
  infra = await isolatedInfra("directory-postmaster");
  // The first domain added is the primary one: its postmaster takes the others' by default.
  await addDomain(infra.pool, "primary.test");
  await addDomain(infra.pool, "tenant.test", { catchAll: "sink@tenant.test" });
  await addDomain(infra.pool, "own.test");
  await addDomain(infra.pool, "off.test");
  await addAccount(infra.pool, "postmaster@primary.test", "long enough pass");
  await addAccount(infra.pool, "sink@tenant.test", "long enough pass");
  await addAccount(infra.pool, "ops@tenant.test", "long enough pass");
  await addAlias(infra.pool, "postmaster@own.test", ["ops@tenant.test"]);
  await addAccount(infra.pool, "postmaster@off.test", "long enough pass");
  await setAccountEnabled(infra.pool, "postmaster@off.test", false);
});

afterAll(async () => {
  await infra?.cleanup();
});

const alias = (address: string, target: string) => ({ kind: "alias", address, targets: [target], catchAll: false });

describe("postmasterForm", () => {
  it("knows the bare form in any case and postmaster@ any domain, and nothing else", () => {
    expect(["Postmaster", "POSTMASTER", "postmaster"].map(postmasterForm)).toEqual(["bare", "bare", "bare"]);
    expect(postmasterForm("PostMaster@example.test")).toBe("domain");
    expect(["postmaster+x@example.test", "postmasters@example.test", "ana@example.test", "post master"].map(postmasterForm)).toEqual([
      undefined, undefined, undefined, undefined,
    ]);
  });
});

describe("resolveRecipient", () => {
  it("sends the bare <Postmaster> to the configured postmaster, or by default to postmaster@ the primary domain", async () => {
    expect(await resolveRecipient(infra.pool, "Postmaster", { postmaster: "ops@tenant.test" })).toEqual(alias("Postmaster", "ops@tenant.test"));
    expect(await resolveRecipient(infra.pool, "POSTMASTER")).toEqual(alias("POSTMASTER", "postmaster@primary.test"));
  });

  it("keeps a domain's own postmaster (account or alias) and gives the others the configured one, catch-all or disabled account notwithstanding", async () => {
    expect(await resolveRecipient(infra.pool, "postmaster@primary.test", { postmaster: "ops@tenant.test" })).toMatchObject({ kind: "local", address: "postmaster@primary.test" });
    expect(await resolveRecipient(infra.pool, "Postmaster@own.test")).toMatchObject({ kind: "alias", targets: ["ops@tenant.test"], catchAll: false });
    expect(await resolveRecipient(infra.pool, "postmaster@tenant.test")).toEqual(alias("postmaster@tenant.test", "postmaster@primary.test"));
    expect(await resolveRecipient(infra.pool, "postmaster@off.test", { postmaster: "ops@tenant.test" })).toEqual(alias("postmaster@off.test", "ops@tenant.test"));
    // A postmaster elsewhere (not hosted here) is a forward like any alias target.
    expect(await resolveRecipient(infra.pool, "postmaster@tenant.test", { postmaster: "noc@provider.example" })).toEqual(
      alias("postmaster@tenant.test", "noc@provider.example"),
    );
  });

  it("answers as the directory does when the postmaster it would use cannot take mail, rather than accept and bounce", async () => {
    // A configured postmaster that is itself without a mailbox, or is the address asked about (a loop).
    expect(await resolveRecipient(infra.pool, "postmaster@tenant.test", { postmaster: "nobody@primary.test" })).toMatchObject({ kind: "alias", catchAll: true });
    expect(await resolveRecipient(infra.pool, "postmaster@off.test", { postmaster: "postmaster@off.test" })).toMatchObject({ kind: "disabled" });
    expect(await resolveRecipient(infra.pool, "Postmaster", { postmaster: "nobody@primary.test" })).toEqual({ kind: "unknown", domain: "primary.test" });
  });

  it("leaves every other address to the directory, and postmaster of other domains is not hosted here", async () => {
    expect(await resolveRecipient(infra.pool, "nobody@own.test", { postmaster: "ops@tenant.test" })).toEqual({ kind: "unknown", domain: "own.test" });
    expect(await resolveRecipient(infra.pool, "postmaster@elsewhere.example", { postmaster: "ops@tenant.test" })).toEqual({ kind: "not-hosted", domain: "elsewhere.example" });
    expect(await resolveRecipient(infra.pool, "ops@tenant.test")).toMatchObject({ kind: "local" });
  });
});
