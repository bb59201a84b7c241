/**
 * Where webhooks may be sent: https only, unless the operator allows plain http
 * (WEBHOOK_ALLOW_HTTP, for tests and receivers on loopback). Returns the normalised
 * URL or the precise reason it is refused.
 */
export function checkEndpointUrl(text: string, allowHttp: boolean): { ok: true; url: string } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { ok: false, error: "not an absolute URL" };
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return { ok: false, error: `scheme ${u.protocol} is not https` };
  if (u.protocol === "http:" && !allowHttp) return { ok: false, error: "webhooks are sent over https only (WEBHOOK_ALLOW_HTTP allows http)" };
  if (u.username || u.password) return { ok: false, error: "credentials in the URL are refused; the signature authenticates Correo" };
  if (u.hash) return { ok: false, error: "a fragment (#…) is never sent; remove it" };
  if (text.length > 2048) return { ok: false, error: "longer than 2048 characters" };
  return { ok: true, url: u.toString() };
}
