/** Human output is a plain aligned table; --json output is one JSON document on stdout. */
export function table<T extends object>(rows: T[], columns: (keyof T & string)[]): string {
  if (rows.length === 0) return "(none)\n";
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? "-" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n") + "\n";
}

export interface Output {
  json: boolean;
  /** Prints `doc` as JSON, or `human()` as text. */
  result(doc: unknown, human: () => string): void;
}

export function output(json: boolean): Output {
  return {
    json,
    result(doc, human) {
      process.stdout.write(json ? JSON.stringify(doc, null, 2) + "\n" : human());
    },
  };
}
