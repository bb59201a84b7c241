import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDns, describeRoute, resolveRoute, type Dns } from "../src/index.js";
import { startDnsmasq, type Dnsmasq } from "./dnsmasq.js";

// The shared resolver against a real DNS server (dnsmasq) and a test zone.
let dnsmasq: Dnsmasq;
let dns: Dns;
const route = (domain: string, transport?: { host: string; port: number }) =>
  resolveRoute({ dns, findTransport: async () => transport, smtpPort: 2525 }, domain);

beforeAll(async () => {
  dnsmasq = await startDnsmasq({
    mx: {
      "ordered.test": [["mx-b.ordered.test", 20], ["mx-a.ordered.test", 10], ["mx-c.ordered.test", 30]],
      "nomail.test": [[".", 0]],
      "dangling.test": [["nowhere.dangling.test", 10]],
    },
    a: {
      "mx-a.ordered.test": ["127.0.0.21"],
      "mx-b.ordered.test": ["127.0.0.22"],
      "mx-c.ordered.test": ["127.0.0.23"],
      "plain.test": ["127.0.0.24"],
      "relay.test": ["127.0.0.25"],
    },
    servfail: ["broken.example"],
  });
  dns = createDns(dnsmasq.server, 2000);
});
afterAll(async () => dnsmasq?.stop());

describe("MX resolution against a real DNS server (dnsmasq)", () => {
  it("orders mail exchangers by preference, lowest first (RFC 5321 §5.1)", async () => {
    const r = await route("ordered.test");
    expect(r.kind === "targets" && r.targets.map((t) => [t.host, t.address, t.port])).toEqual([
      ["mx-a.ordered.test", "127.0.0.21", 2525],
      ["mx-b.ordered.test", "127.0.0.22", 2525],
      ["mx-c.ordered.test", "127.0.0.23", 2525],
    ]);
    expect(describeRoute(r)).toBe("mx mx-a.ordered.test[127.0.0.21]:2525, mx-b.ordered.test[127.0.0.22]:2525, mx-c.ordered.test[127.0.0.23]:2525");
  });

  it("uses the domain's own address when it has no MX (implicit MX)", async () => {
    expect(await route("plain.test")).toEqual({
      kind: "targets",
      via: "implicit-mx",
      targets: [{ host: "plain.test", address: "127.0.0.24", port: 2525 }],
    });
  });

  it("bounces 5.1.10 on a null MX (RFC 7505)", async () => {
    const r = await route("nomail.test");
    expect(r).toMatchObject({ kind: "bounce" });
    expect(describeRoute(r)).toMatch(/^550 5\.1\.10 /);
  });

  it("bounces 5.1.2 when the domain does not exist (NXDOMAIN)", async () => {
    expect(describeRoute(await route("no-such-domain.test"))).toMatch(/^550 5\.1\.2 .*NXDOMAIN/);
  });

  it("defers 4.4.3 on SERVFAIL", async () => {
    const r = await route("broken.example");
    expect(r.kind).toBe("defer");
    expect(describeRoute(r)).toMatch(/^4\.4\.3 DNS failure looking up MX of broken\.example: ESERVFAIL/);
  });

  it("defers 4.4.4 when the only MX host has no address", async () => {
    expect(describeRoute(await route("dangling.test"))).toMatch(/^4\.4\.4 /);
  });

  it("resolves the host of a transport override through the same servers", async () => {
    const r = await route("anything.test", { host: "relay.test", port: 2600 });
    expect(r).toEqual({ kind: "targets", via: "transport", targets: [{ host: "relay.test", address: "127.0.0.25", port: 2600 }] });
  });
});
