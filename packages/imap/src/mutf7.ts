/** RFC 3501 §5.1.3 modified UTF-7 mailbox names (for clients that have not enabled UTF8=ACCEPT). */

export function encodeMailboxName(name: string): string {
  return name.replace(/&/g, "&-").replace(/[^\x20-\x7e]+/g, (run) => {
    const utf16 = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) utf16.writeUInt16BE(run.charCodeAt(i), i * 2);
    return "&" + utf16.toString("base64").replace(/=+$/, "").replace(/\//g, ",") + "-";
  });
}

export function decodeMailboxName(name: string): string {
  return name.replace(/&([^-]*)-/g, (_, b64: string) => {
    if (b64 === "") return "&";
    const bytes = Buffer.from(b64.replace(/,/g, "/"), "base64");
    let out = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
    return out;
  });
}
