/**
 * Mailbox names. Stored as UTF-8 with "/" as the hierarchy delimiter; INBOX is
 * case-insensitive (RFC 3501 §5.1), so every spelling of it, alone or as the first
 * level of a hierarchy, is kept as "INBOX".
 */
export const HIERARCHY_DELIMITER = "/";
export const MAX_MAILBOX_NAME_LENGTH = 255;

export function normalizeMailboxName(name: string): string {
  if (/^inbox$/i.test(name)) return "INBOX";
  if (/^inbox\//i.test(name)) return "INBOX" + name.slice(5);
  return name;
}

/** Why a name cannot be a mailbox, or undefined when it can. */
export function invalidMailboxName(name: string): string | undefined {
  if (name.length === 0) return "the mailbox name is empty";
  if (name.length > MAX_MAILBOX_NAME_LENGTH) return `the mailbox name is longer than ${MAX_MAILBOX_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return "the mailbox name contains control characters";
  if (/[*%]/.test(name)) return "the mailbox name contains a wildcard (* or %)";
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//")) return "the mailbox name has an empty hierarchy level";
  return undefined;
}

/** The names of the levels above `name` ("a/b/c" → ["a", "a/b"]). */
export function parentNames(name: string): string[] {
  const levels = name.split(HIERARCHY_DELIMITER);
  return levels.slice(0, -1).map((_, i) => levels.slice(0, i + 1).join(HIERARCHY_DELIMITER));
}
