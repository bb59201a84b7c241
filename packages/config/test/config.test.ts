import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ConfigError, loadConfig, parseDuration, serviceSpecs, variablesOf } from "../src/index.js";

describe("loadConfig", () => {
  it("uses the local defaults when nothing is set", () => {
    const c = loadConfig(serviceSpecs.submission, {});
    expect(c.httpPort).toBe(8080);
    expect(c.opsPort).toBe(9101);
    expect(c.amqpUrl).toBe("amqp://guest:guest@127.0.0.1:5672");
    expect(c.databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/correo");
    expect(c.prefix).toBe("correo");
  });

  it("stops with a message naming every wrong variable", () => {
    let err: unknown;
    try {
      loadConfig(serviceSpecs["relay-queue"], { OPS_PORT: "http", RELAY_MIN_BACKOFF: "soon", AMQP_URL: "http://x" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain("OPS_PORT must be a TCP port number (0-65535), got 'http'");
    expect(msg).toContain("RELAY_MIN_BACKOFF must be a duration like 90s, 15m, 2h or 5d, got 'soon'");
    expect(msg).toContain("AMQP_URL must use amqp:// or amqps://");
    expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(["AMQP_URL", "OPS_PORT", "RELAY_MIN_BACKOFF"]);
  });

  it("reads the mailbox's duplicate window as a duration, 24h by default, and off as null", () => {
    expect(loadConfig(serviceSpecs.mailbox, {}).duplicateWindow).toBe(24 * 3_600_000);
    expect(loadConfig(serviceSpecs.mailbox, { MAILBOX_DUPLICATE_WINDOW: "90m" }).duplicateWindow).toBe(90 * 60_000);
    expect(loadConfig(serviceSpecs.mailbox, { MAILBOX_DUPLICATE_WINDOW: "off" }).duplicateWindow).toBeNull();
    expect(() => loadConfig(serviceSpecs.mailbox, { MAILBOX_DUPLICATE_WINDOW: "never" })).toThrow(
      "MAILBOX_DUPLICATE_WINDOW must be a duration like 90s, 15m, 2h or 5d, or off, got 'never'",
    );
  });

  it("reads SRS settings: off by default, secrets as a list, and a stray comma refused without echoing a secret", () => {
    const off = loadConfig(serviceSpecs.routing, {});
    expect([off.srsSecrets, off.srsDomain, off.srsMaxAge]).toEqual([[], undefined, 21 * 86_400_000]);
    const on = loadConfig(serviceSpecs.submission, { SRS_SECRETS: "new-one, old-one", SRS_DOMAIN: "Fwd.Example.com", SRS_MAX_AGE: "7d" });
    expect([on.srsSecrets, on.srsDomain, on.srsMaxAge]).toEqual([["new-one", "old-one"], "fwd.example.com", 7 * 86_400_000]);
    expect(() => loadConfig(serviceSpecs.routing, { SRS_SECRETS: "hunter2,,x" })).toThrow(
      /SRS_SECRETS has an empty secret at position 2 of 3 \(a stray comma\?\)/,
    );
    expect(() => loadConfig(serviceSpecs.routing, { SRS_SECRETS: "hunter2,,x" })).not.toThrow(/hunter2/);
    expect(() => loadConfig(serviceSpecs.routing, { SRS_DOMAIN: "not a domain" })).toThrow(/SRS_DOMAIN must be a host name/);
  });

  it("rejects a prefix that could not name a queue", () => {
    expect(() => loadConfig(serviceSpecs.routing, { CORREO_PREFIX: "Bad Prefix!" })).toThrow(/CORREO_PREFIX/);
  });

  it("lists the variables a service reads", () => {
    expect(variablesOf(serviceSpecs.retrieval)).toContain("POP3_PORT");
    expect(variablesOf(serviceSpecs.submission)).toContain("SUBMISSION_HTTP_PORT");
  });
});

describe("parseDuration", () => {
  it("reads the units DESIGN uses", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("5d")).toBe(432_000_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5 days")).toBeUndefined();
    expect(parseDuration("-1s")).toBeUndefined();
  });

  it("never throws and round-trips every written duration", () => {
    fc.assert(fc.property(fc.string(), (s) => void parseDuration(s)));
    fc.assert(
      fc.property(fc.nat(100_000), fc.constantFrom("ms", "s", "m", "h", "d"), (n, unit) => {
        const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
        return parseDuration(`${n}${unit}`) === n * factor;
      }),
    );
  });
});

describe("rspamd settings (issue 14)", () => {
  it("leave spam scoring off by default, with a 2 s timeout, failing open", () => {
    const c = loadConfig(serviceSpecs.submission, {});
    expect(c.rspamdUrl).toBeUndefined();
    expect(c.rspamdTimeout).toBe(2000);
    expect(c.rspamdFailClosed).toBe(false);
    expect(c.rspamdPassword).toBeUndefined();
  });

  it("read RSPAMD_URL as an http(s) URL and RSPAMD_FAIL_CLOSED as a switch", () => {
    const c = loadConfig(serviceSpecs.submission, { RSPAMD_URL: "http://127.0.0.1:11333", RSPAMD_FAIL_CLOSED: "yes", RSPAMD_TIMEOUT: "500ms" });
    expect(c.rspamdUrl).toBe("http://127.0.0.1:11333");
    expect(c.rspamdFailClosed).toBe(true);
    expect(c.rspamdTimeout).toBe(500);
  });

  it("refuse a URL of another scheme and a switch that is neither true nor false, naming both", () => {
    expect(() => loadConfig(serviceSpecs.submission, { RSPAMD_URL: "tcp://127.0.0.1:11333", RSPAMD_FAIL_CLOSED: "maybe" })).toThrow(
      /RSPAMD_URL must use http:\/\/ or https:\/\/, got 'tcp:\/\/127.0.0.1:11333'[\s\S]*RSPAMD_FAIL_CLOSED must be true or false \(also yes\/no, on\/off, 1\/0\), got 'maybe'/,
    );
  });
});
