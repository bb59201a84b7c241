import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadTlsCredentials, TlsConfigError } from "../src/index.js";

describe("loadTlsCredentials", () => {
  it("generates a self-signed certificate for the host name when none is configured", async () => {
    const c = await loadTlsCredentials({ hostname: "mx.correo.test" });
    expect(c.source).toBe("self-signed");
    const x509 = new X509Certificate(c.cert);
    expect(x509.subject).toContain("CN=mx.correo.test");
    expect(x509.checkHost("mx.correo.test")).toBe("mx.correo.test");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("reads a configured pair, and names the variable when a file is missing or not PEM", async () => {
    const made = await loadTlsCredentials({ hostname: "files.correo.test" });
    const dir = mkdtempSync(join(tmpdir(), "correo-tls-"));
    writeFileSync(join(dir, "cert.pem"), made.cert);
    writeFileSync(join(dir, "key.pem"), made.key);
    writeFileSync(join(dir, "junk.pem"), "not a certificate");
    const c = await loadTlsCredentials({ hostname: "x", certPath: join(dir, "cert.pem"), keyPath: join(dir, "key.pem") });
    expect(c.source).toBe("files");
    await expect(loadTlsCredentials({ hostname: "x", certPath: join(dir, "nope.pem"), keyPath: join(dir, "key.pem") })).rejects.toThrow(
      /^TLS_CERT_PATH names a file that cannot be read: .*ENOENT/,
    );
    await expect(loadTlsCredentials({ hostname: "x", certPath: join(dir, "cert.pem"), keyPath: join(dir, "junk.pem") })).rejects.toThrow(TlsConfigError);
    await expect(loadTlsCredentials({ hostname: "x", certPath: join(dir, "cert.pem") })).rejects.toThrow(/^TLS_KEY_PATH is required/);
  });
});
