/**
 * The extended response codes this server sends in brackets after +OK/-ERR (RFC 2449 §8,
 * advertised by RESP-CODES and AUTH-RESP-CODE in CAPA). One place, so that every
 * command says the same thing for the same condition.
 */
export const ResponseCode = {
  /** RFC 2449 §8.1.2: the credentials are right, but the maildrop is locked by another session. */
  inUse: "IN-USE",
  /** RFC 3206 §5 (AUTH-RESP-CODE): the failure is about the credentials, not the server. */
  auth: "AUTH",
  /** RFC 3206 §4: a problem on the server's side that may go away; try again later. */
  sysTemp: "SYS/TEMP",
  /** RFC 3206 §4: a problem on the server's side that will not go away by retrying. */
  sysPerm: "SYS/PERM",
} as const;
export type ResponseCode = (typeof ResponseCode)[keyof typeof ResponseCode];

/** `[CODE] text`, the form of RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]". */
export function withCode(code: ResponseCode, text: string): string {
  return `[${code}] ${text}`;
}
