import { readFile } from "node:fs/promises";
import { createSecureContext, type SecureContext } from "node:tls";
import { generate } from "selfsigned";

export interface TlsCredentials {
  key: string;
  cert: string;
  /** Where they came from: the configured files, or generated at start for local use. */
  source: "files" | "self-signed";
  context: SecureContext;
}

/** A configured certificate or key that cannot be used, naming the variable at fault. */
export class TlsConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
    this.name = "TlsConfigError";
  }
}

export interface TlsOptions {
  /** PEM certificate chain (TLS_CERT_PATH) and key (TLS_KEY_PATH); both or neither. */
  certPath?: string;
  keyPath?: string;
  /** The name the self-signed certificate is made for (CORREO_HOSTNAME). */
  hostname: string;
}

/**
 * The certificate STARTTLS and implicit-TLS listeners present. With TLS_CERT_PATH and
 * TLS_KEY_PATH it is read from those files; without them a self-signed certificate
 * for the host name is generated at start, which is what local use and tests need
 * (clients then must not verify, as with any self-signed certificate).
 */
export async function loadTlsCredentials(opts: TlsOptions): Promise<TlsCredentials> {
  if (opts.certPath || opts.keyPath) {
    if (!opts.certPath) throw new TlsConfigError("TLS_CERT_PATH", "is required when TLS_KEY_PATH is set");
    if (!opts.keyPath) throw new TlsConfigError("TLS_KEY_PATH", "is required when TLS_CERT_PATH is set");
    const cert = await readPem(opts.certPath, "TLS_CERT_PATH");
    const key = await readPem(opts.keyPath, "TLS_KEY_PATH");
    try {
      return { key, cert, source: "files", context: createSecureContext({ key, cert }) };
    } catch (err) {
      throw new TlsConfigError("TLS_CERT_PATH", `and TLS_KEY_PATH do not make a usable pair: ${(err as Error).message}`);
    }
  }
  const pems = await generate([{ name: "commonName", value: opts.hostname }], {
    days: 365,
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "subjectAltName", altNames: [{ type: 2, value: opts.hostname }, { type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert, source: "self-signed", context: createSecureContext({ key: pems.private, cert: pems.cert }) };
}

async function readPem(path: string, variable: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new TlsConfigError(variable, `names a file that cannot be read: ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!text.includes("-----BEGIN ")) throw new TlsConfigError(variable, `is not a PEM file: ${path}`);
  return text;
}
