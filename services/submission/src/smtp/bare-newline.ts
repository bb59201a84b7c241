const CR = 0x0d;
const LF = 0x0a;

export interface LineScan {
  /** The first line ending that is not <CR><LF>: a bare LF or a bare CR. */
  bare?: "LF" | "CR";
  /** Byte offset of that bare line ending. */
  at?: number;
  /** Length of the longest line, without its <CR><LF>. */
  longestLine: number;
}

/**
 * SMTP smuggling (CVE-2023-51764/51765/51766, SEC Consult 2023) relies on servers that
 * disagree on where a message ends: `<LF>.<LF>`, `<CR>.<CR>`, `<LF>.<CR><LF>` or
 * `<CR><LF>.<LF>` end the data for one and are body text for the next. The only end
 * of data is `<CR><LF>.<CR><LF>` (RFC 5321 §4.1.1.4), which smtp-server honours; every
 * other variant needs a bare CR or LF in the body, so a body with any of them is
 * refused whole, as Postfix's `smtpd_forbid_bare_newline` does. One pass, no copies.
 */
export function scanLines(data: Uint8Array): LineScan {
  let longestLine = 0;
  let lineStart = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === CR) {
      if (data[i + 1] !== LF) return { bare: "CR", at: i, longestLine: Math.max(longestLine, i - lineStart) };
      longestLine = Math.max(longestLine, i - lineStart);
      i++;
      lineStart = i + 1;
    } else if (b === LF) {
      return { bare: "LF", at: i, longestLine: Math.max(longestLine, i - lineStart) };
    }
  }
  return { longestLine: Math.max(longestLine, data.length - lineStart) };
}
