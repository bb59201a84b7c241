/** Turns a service's pino JSON line into one short readable line for the terminal. */
const LEVEL_COLOURS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[90m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[41m",
};
const SKIP = new Set(["time", "level", "msg", "service", "pid", "hostname", "span_id"]);

export function formatLogLine(line: string, colour: boolean): string {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof doc !== "object" || doc === null || !("msg" in doc)) return line;
  const time = typeof doc.time === "string" ? doc.time.slice(11, 23) : "";
  const level = String(doc.level ?? "info");
  const extras = Object.entries(doc)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const lvl = level.toUpperCase().padEnd(5);
  const shownLevel = colour ? `${LEVEL_COLOURS[level] ?? ""}${lvl}\x1b[0m` : lvl;
  return `${time} ${shownLevel} ${String(doc.msg)}${extras ? "  " + extras : ""}`;
}
