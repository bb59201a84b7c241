import { SMTPConnection } from "smtp-server/lib/smtp-connection";

export interface AddressCommand {
  /** "MAIL FROM" or "RCPT TO", as the client wrote it (upper-cased). */
  verb: string;
  /** The Mailbox inside the angle brackets, exactly as written, a source route dropped; "" for `<>`. */
  address: string;
  /** The ESMTP parameters after the path ("SIZE=10 BODY=8BITMIME"), or "". */
  params: string;
}

// RFC 5321 §4.1.2 A-d-l, as smtp-server matches it.
const SOURCE_ROUTE = /^@[^\s,:@]+(?:,@[^\s,:@]+)*:/;
// Invisible formatting characters smtp-server refuses in addresses (spoofing): kept so.
const INVISIBLE = /[\u200b\u2060\ufeff]/;

/**
 * Splits `MAIL FROM:<path> params` (RFC 5321 §4.1.1.2, §4.1.1.3) with the Path's own
 * grammar: the closing ">" is the first one outside a Quoted-string, and the
 * parameters start after it. A source route is dropped, as §4.1.1.3 says it is to be
 * ignored. Only the shape is checked here; the mailbox is judged by the MAIL and RCPT
 * policies (parseMailbox), which can tell a syntax error from a policy refusal.
 */
export function splitAddressCommand(command: string): AddressCommand | undefined {
  const colon = command.indexOf(":");
  if (colon < 0) return undefined;
  const verb = command.slice(0, colon).trim().toUpperCase();
  const rest = command.slice(colon + 1).replace(/^[ \t]+/, "");
  if (!rest.startsWith("<")) return undefined;
  let quoted = false;
  let end = -1;
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ">") {
      end = i;
      break;
    } else if (!quoted && c === "<") return undefined;
  }
  if (end < 0) return undefined;
  const after = rest.slice(end + 1);
  if (after !== "" && !/^[ \t]/.test(after)) return undefined;
  const address = rest.slice(1, end).replace(SOURCE_ROUTE, "");
  return { verb, address, params: after.trim() };
}

let installed = false;

/**
 * smtp-server reads the path itself before any handler runs, by rules of its own: it
 * splits the command at white space (cutting `<"a b"@x>` in two), allows one "@"
 * only (so `<"a@b"@x>`, valid syntax, was a 501 instead of the policy refusal it is),
 * limits the address to 253 octets (a 254-octet mailbox is valid, RFC 5321
 * §4.5.3.1.3) and rewrites A-label domains into U-labels. This hands it the
 * parameters alone, for its own checks (xtext, control characters, duplicates), and
 * passes the address on as written. Installed once, before any listener starts.
 */
export function installPathParsing(): void {
  if (installed) return;
  installed = true;
  type Parsed = { address: string; args: unknown } | false;
  const proto = SMTPConnection.prototype as unknown as { _parseAddressCommand(name: string, command: string): Parsed };
  const original = proto._parseAddressCommand;
  proto._parseAddressCommand = function (name: string, command: string): Parsed {
    const split = splitAddressCommand(String(command ?? ""));
    if (!split || split.verb !== String(name ?? "").trim().toUpperCase() || INVISIBLE.test(split.address)) return false;
    const parsed = original.call(this, name, `${split.verb}:<>${split.params ? ` ${split.params}` : ""}`);
    if (!parsed) return false;
    parsed.address = split.address;
    return parsed;
  };
}
