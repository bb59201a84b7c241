/**
 * Arguments of TRANSACTION commands (RFC 1939 §5, §7), parsed apart from the commands
 * that use them. Pure; each returns the value or undefined.
 */

// RFC 1939 §3 numbers messages from 1; more than 10 digits cannot name one.
const MESSAGE_NUMBER = /^[1-9][0-9]{0,9}$/;
// RFC 1939 §7 (TOP): "a non-negative number of lines"; nine digits are plenty.
const LINE_COUNT = /^[0-9]{1,9}$/;

/** A msg argument: a decimal number from 1, without sign or leading zero. */
export function parseMessageNumber(arg: string | undefined): number | undefined {
  return arg !== undefined && MESSAGE_NUMBER.test(arg) ? Number(arg) : undefined;
}

/** TOP's n: a non-negative decimal number of body lines. */
export function parseLineCount(arg: string | undefined): number | undefined {
  return arg !== undefined && LINE_COUNT.test(arg) ? Number(arg) : undefined;
}
