import { describe, expect, it } from "vitest";
import { parseDnsServers, resolveRoute, type Dns } from "../src/index.js";

const fail = (code: string) => Promise.reject(Object.assign(new Error(code), { code }));

function dns(records: {
  mx?: Record<string, { exchange: string; priority: number }[] | string>;
  a?: Record<string, string[] | string>;
}): Dns {
  const look = <T>(table: Record<string, T[] | string> | undefined, name: string): Promise<T[]> => {
    const v = table?.[name];
    if (v === undefined) return fail("ENOTFOUND");
    return typeof v === "string" ? fail(v) : Promise.resolve(v);
  };
  return {
    resolveMx: (n) => look(records.mx, n),
    resolve4: (n) => look(records.a, n),
    resolve6: () => fail("ENODATA"),
  };
}

const route = (d: Dns, domain: string, transport?: { host: string; port: number }) =>
  resolveRoute({ dns: d, findTransport: async () => transport, smtpPort: 25 }, domain);

describe("next hop (RFC 5321 §5.1)", () => {
  it("tries MX hosts in preference order", async () => {
    const r = await route(
      dns({
        mx: { "example.test": [{ exchange: "b.example.test", priority: 20 }, { exchange: "a.example.test", priority: 10 }] },
        a: { "a.example.test": ["192.0.2.1"], "b.example.test": ["192.0.2.2"] },
      }),
      "example.test",
    );
    expect(r).toEqual({
      kind: "targets",
      targets: [
        { host: "a.example.test", address: "192.0.2.1", port: 25 },
        { host: "b.example.test", address: "192.0.2.2", port: 25 },
      ],
      via: "mx",
    });
  });

  it("uses the domain itself when it has no MX (implicit MX)", async () => {
    const r = await route(dns({ mx: { "plain.test": "ENODATA" }, a: { "plain.test": ["192.0.2.9"] } }), "plain.test");
    expect(r).toEqual({ kind: "targets", targets: [{ host: "plain.test", address: "192.0.2.9", port: 25 }], via: "implicit-mx" });
  });

  it("bounces 5.1.10 on a null MX (RFC 7505)", async () => {
    const r = await route(dns({ mx: { "nomail.test": [{ exchange: "", priority: 0 }] } }), "nomail.test");
    expect(r.kind).toBe("bounce");
    expect(r.kind === "bounce" && r.reply).toMatch(/^550 5\.1\.10 /);
  });

  it("bounces 5.1.2 on NXDOMAIN", async () => {
    const r = await route(dns({}), "nowhere.test");
    expect(r.kind === "bounce" && r.reply).toMatch(/^550 5\.1\.2 /);
  });

  it.each(["ESERVFAIL", "ETIMEOUT"])("defers on a temporary DNS failure (%s)", async (code) => {
    const r = await route(dns({ mx: { "flaky.test": code } }), "flaky.test");
    expect(r.kind).toBe("defer");
    expect(r.kind === "defer" && r.reply).toMatch(/^4\.4\.3 /);
  });

  it("prefers a transport override to DNS, with its own port", async () => {
    const r = await route(dns({}), "anything.test", { host: "127.0.0.1", port: 2526 });
    expect(r).toEqual({ kind: "targets", targets: [{ host: "127.0.0.1", address: "127.0.0.1", port: 2526 }], via: "transport" });
  });

  it("reads DNS_SERVERS as ip[:port]", () => {
    expect(parseDnsServers("127.0.0.1:5353, 9.9.9.9,::1,[::1]:53")).toEqual(["127.0.0.1:5353", "9.9.9.9", "[::1]", "[::1]:53"]);
    expect(() => parseDnsServers("dns.example:53")).toThrow(/ip\[:port\]/);
  });
});
