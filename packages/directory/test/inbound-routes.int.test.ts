import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import {
  addAccount,
  addAlias,
  addDomain,
  addDomainAlias,
  addInboundRoute,
  DirectoryError,
  listInboundRoutes,
  recipientStatus,
  removeInboundRoute,
  updateInboundRoute,
  type InboundRoute,
} from "../src/index.js";

/** Inbound routes against a real directory: precedence over accounts and aliases, and what is refused. */
let infra: IsolatedInfra;
let exact: InboundRoute;
let wildcard: InboundRoute;
let sub: InboundRoute;

beforeAll(async () => {
  infra = await isolatedInfra("directory-inbound-routes");
  await addDomain(infra.pool, "shop.test");
  await addDomain(infra.pool, "other.test");
  await addDomainAlias(infra.pool, "shop-alias.test", "shop.test");
  await addAccount(infra.pool, "support@shop.test", "long enough pass");
  await addAccount(infra.pool, "ana@shop.test", "long enough pass");
  await addAlias(infra.pool, "team@shop.test", ["ana@shop.test"]);
  exact = await addInboundRoute(infra.pool, "shop.test", { pattern: "Support@shop.test", url: "https://app.test/support" });
  sub = await addInboundRoute(infra.pool, "shop.test", { pattern: "*@in.shop.test", url: "https://app.test/in" });
  wildcard = await addInboundRoute(infra.pool, "shop.test", { pattern: "*@shop.test", url: "https://app.test/all" });
});
afterAll(async () => {
  await infra?.cleanup();
});

const inbound = (r: InboundRoute) => ({ kind: "inbound", routeId: r.id, pattern: r.pattern });
const refused = (p: Promise<unknown>) => p.then(() => { throw new Error("not refused"); }, (e: DirectoryError) => ({ code: e.code, field: e.field, message: e.message }));

describe("which route a recipient reaches", () => {
  it("prefers the exact address (any case, +tag stripped) over the domain's wildcard, and both over an account or alias", async () => {
    expect(await recipientStatus(infra.pool, "SUPPORT@shop.test")).toEqual(inbound(exact));
    expect(await recipientStatus(infra.pool, "support+vip@shop.test")).toEqual(inbound(exact));
    expect(await recipientStatus(infra.pool, "ana@shop.test")).toEqual(inbound(wildcard));
    expect(await recipientStatus(infra.pool, "team@shop.test")).toEqual(inbound(wildcard));
    expect(await recipientStatus(infra.pool, "nobody@shop.test")).toEqual(inbound(wildcard));
    // An alias domain stands for its domain, routes included.
    expect(await recipientStatus(infra.pool, "Support@shop-alias.test")).toEqual(inbound(exact));
    expect(await recipientStatus(infra.pool, "ana@shop-alias.test")).toEqual(inbound(wildcard));
  });

  it("routes a subdomain no one hosts by its own wildcard, and leaves other domains alone", async () => {
    expect(await recipientStatus(infra.pool, "order-1@in.shop.test")).toEqual(inbound(sub));
    expect(await recipientStatus(infra.pool, "x@deeper.in.shop.test")).toEqual({ kind: "not-hosted", domain: "deeper.in.shop.test" });
    expect(await recipientStatus(infra.pool, "x@other.test")).toEqual({ kind: "unknown", domain: "other.test" });
  });

  it("gives the mailbox back when the route is removed", async () => {
    await removeInboundRoute(infra.pool, "shop.test", wildcard.id);
    expect(await recipientStatus(infra.pool, "ana@shop.test")).toMatchObject({ kind: "local", address: "ana@shop.test" });
    expect(await recipientStatus(infra.pool, "ana@shop-alias.test")).toMatchObject({ kind: "local" });
    expect(await recipientStatus(infra.pool, "nobody@shop.test")).toEqual({ kind: "unknown", domain: "shop.test" });
    expect((await listInboundRoutes(infra.pool, "shop.test")).map((r) => r.pattern)).toEqual(["*@in.shop.test", "support@shop.test"]);
  });
});

describe("adding a route", () => {
  it("refuses a duplicate pattern, a bad URL, a fallback that is no account, and an unknown domain, naming the field", async () => {
    expect(await refused(addInboundRoute(infra.pool, "shop.test", { pattern: "support@SHOP.test", url: "https://x.test/" }))).toMatchObject({ code: "duplicate", field: "pattern" });
    expect(await refused(addInboundRoute(infra.pool, "shop.test", { pattern: "a@shop.test", url: "ftp://x.test/" }))).toMatchObject({ code: "invalid", field: "url" });
    expect(await refused(addInboundRoute(infra.pool, "shop.test", { pattern: "a@shop.test", url: "https://u:p@x.test/" }))).toMatchObject({ field: "url" });
    expect(await refused(addInboundRoute(infra.pool, "shop.test", { pattern: "a@shop.test", url: "https://x.test/", fallback: "mailbox:ghost@shop.test" }))).toMatchObject({ field: "fallback", message: expect.stringMatching(/ghost@shop\.test is not an enabled account/) });
    expect(await refused(addInboundRoute(infra.pool, "shop.test", { pattern: "a@shop.test", url: "https://x.test/", inlineLimitBytes: -1 }))).toMatchObject({ field: "inlineLimitBytes" });
    expect(await refused(addInboundRoute(infra.pool, "nowhere.test", { pattern: "a@nowhere.test", url: "https://x.test/" }))).toMatchObject({ code: "not_found", field: "domain" });
  });

  it("generates a secret long enough for HMAC-SHA256 and different each time", async () => {
    const a = await addInboundRoute(infra.pool, "other.test", { pattern: "a@other.test", url: "https://x.test/a" });
    const b = await addInboundRoute(infra.pool, "other.test", { pattern: "b@other.test", url: "https://x.test/b", fallback: "bounce" });
    expect(a.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a).toMatchObject({ inlineLimitBytes: 1048576, giveUpAfterSeconds: 86400, fallback: { kind: "bounce" } });
  });
});

describe("changing a route", () => {
  it("changes what is given, keeps the rest, and rotates the secret only when asked", async () => {
    const r = await addInboundRoute(infra.pool, "other.test", { pattern: "c@other.test", url: "https://x.test/c" });
    const moved = await updateInboundRoute(infra.pool, "other.test", r.id, { url: "https://y.test/c", giveUpAfterSeconds: 600 });
    expect(moved).toMatchObject({ url: "https://y.test/c", giveUpAfterSeconds: 600, inlineLimitBytes: r.inlineLimitBytes, secret: r.secret, pattern: "c@other.test" });
    const rotated = await updateInboundRoute(infra.pool, "other.test", r.id, { rotateSecret: true, fallback: "bounce" });
    expect(rotated.secret).not.toBe(r.secret);
    expect(rotated.secret).toMatch(/^whsec_/);
  });

  it("refuses a route of another domain, and bad values naming the field", async () => {
    const r = await addInboundRoute(infra.pool, "other.test", { pattern: "d@other.test", url: "https://x.test/d" });
    expect(await refused(updateInboundRoute(infra.pool, "shop.test", r.id, { url: "https://y.test/" }))).toMatchObject({ code: "not_found", field: "id" });
    expect(await refused(updateInboundRoute(infra.pool, "other.test", r.id, { url: "mailto:x@y.test" }))).toMatchObject({ code: "invalid", field: "url" });
    expect(await refused(updateInboundRoute(infra.pool, "other.test", r.id, { giveUpAfterSeconds: 5 }))).toMatchObject({ field: "giveUpAfterSeconds" });
    expect(await refused(updateInboundRoute(infra.pool, "other.test", r.id, { fallback: "mailbox:nobody@other.test" }))).toMatchObject({ field: "fallback" });
  });
});
