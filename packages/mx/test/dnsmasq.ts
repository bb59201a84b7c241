import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Real DNS servers for tests: dnsmasq (apt package `dnsmasq`) on 127.0.0.1 and a free
 * high port, answering from a test zone and nothing else (--no-resolv --no-hosts).
 *
 * `servfail` names domains that must answer SERVFAIL. dnsmasq has no switch for that, so
 * it is done the way real resolvers fail: the zone dnsmasq validates DNSSEC against the
 * root trust anchor and forwards those names to a second dnsmasq that serves them
 * unsigned — the answer is BOGUS, and the validator answers SERVFAIL.
 */
export interface ZoneSpec {
  /** domain → [exchange, preference][]; an exchange "." is a null MX (RFC 7505). */
  mx?: Record<string, [string, number][]>;
  /** host → IPv4 addresses. */
  a?: Record<string, string[]>;
  /** name → TXT records, each one string (split into 255-octet strings here, RFC 1035 §3.3.14). */
  txt?: Record<string, string[]>;
  /** IPv4 address → the name its PTR record gives. */
  ptr?: Record<string, string>;
  /** Domains (outside .test) whose every answer is SERVFAIL. */
  servfail?: string[];
  /** Domains forwarded to a server that never answers: every lookup under them times out. */
  silent?: string[];
}

export interface Dnsmasq {
  /** For DNS_SERVERS / Resolver.setServers: `127.0.0.1:<port>`. */
  server: string;
  stop(): Promise<void>;
}

// The root zone's KSK-2017 DS record: the trust anchor every validating resolver ships.
const ROOT_TRUST_ANCHOR = "trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function zoneLines(zone: ZoneSpec): string[] {
  const lines = ["local=/test/"];
  for (const [domain, mxs] of Object.entries(zone.mx ?? {})) {
    for (const [exchange, pref] of mxs) {
      if (exchange === ".") {
        // dnsmasq's mx-host cannot say "the root"; a raw MX RR can: preference 0, exchange "." (one zero byte).
        lines.push(`dns-rr=${domain},15,${pref.toString(16).padStart(4, "0")}00`);
      } else {
        lines.push(`mx-host=${domain},${exchange},${pref}`);
      }
    }
  }
  for (const [host, addrs] of Object.entries(zone.a ?? {})) for (const ip of addrs) lines.push(`host-record=${host},${ip}`);
  for (const [name, records] of Object.entries(zone.txt ?? {})) {
    for (const r of records) lines.push(`txt-record=${name},${(r.match(/.{1,255}/g) ?? [""]).map((c) => `"${c}"`).join(",")}`);
  }
  if (zone.ptr) lines.push("local=/in-addr.arpa/");
  for (const [ip, name] of Object.entries(zone.ptr ?? {})) lines.push(`ptr-record=${ip.split(".").reverse().join(".")}.in-addr.arpa,${name}`);
  return lines;
}

/**
 * dnsmasq takes the port over UDP and TCP; a port free over UDP may be taken over TCP
 * (or by a parallel suite) by the time it binds, so a bind clash is retried on another port.
 */
async function startOne(name: string, dir: string, lines: string[], fixedPort?: number): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(name, dir, lines, fixedPort);
    } catch (err) {
      // A port the caller chose is not traded for another: its Correo already points at it.
      if (fixedPort !== undefined || attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(name: string, dir: string, lines: string[], fixedPort?: number): Promise<{ port: number; child: ChildProcess }> {
  const port = fixedPort ?? (await freeUdpPort());
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, lines.join("\n") + "\n");
  const child = spawn(
    "dnsmasq",
    ["--no-daemon", `--port=${port}`, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts", "--local-ttl=60", `--conf-file=${conf}`, `--pid-file=`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  // Ready when it answers; fail fast when it exits (missing binary, bad config).
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${err}`);
    if (err.includes("started") || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${err}`);
  await new Promise((r) => setTimeout(r, 50));
  return { port, child };
}

/** A free UDP port on 127.0.0.1 for `startDnsmasq(zone, { port })`, to name in DNS_SERVERS before the zone is known. */
export const freeDnsPort = freeUdpPort;

/**
 * `port`: listen there instead of a free port of its own choosing, for a zone that holds
 * what a server configured with DNS_SERVERS makes after it starts (a DKIM key it generates).
 */
export async function startDnsmasq(zone: ZoneSpec, options: { port?: number } = {}): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), "correo-dns-"));
  const children: ChildProcess[] = [];
  try {
    const lines = zoneLines(zone);
    if (zone.servfail?.length) {
      const upstream = await startOne(
        "unsigned",
        dir,
        zone.servfail.flatMap((d) => [`local=/${d}/`, `mx-host=${d},mx.${d},10`]),
      );
      children.push(upstream.child);
      lines.push(`server=127.0.0.1#${upstream.port}`, "dnssec", ROOT_TRUST_ANCHOR, "dnssec-check-unsigned");
    }
    // A UDP socket that reads queries and never answers: dnsmasq forwards the silent domains to it.
    const blackhole = zone.silent?.length ? createSocket("udp4") : undefined;
    if (blackhole) {
      await new Promise<void>((resolve) => blackhole.bind(0, "127.0.0.1", () => resolve()));
      for (const d of zone.silent!) lines.push(`server=/${d}/127.0.0.1#${blackhole.address().port}`);
    }
    const main = await startOne("zone", dir, lines, options.port);
    children.push(main.child);
    return {
      server: `127.0.0.1:${main.port}`,
      async stop() {
        await Promise.all(
          children.map(
            (c) =>
              new Promise<void>((resolve) => {
                if (c.exitCode !== null || c.signalCode !== null) return resolve();
                c.once("exit", () => resolve());
                c.kill("SIGTERM");
              }),
          ),
        );
        if (blackhole) blackhole.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
