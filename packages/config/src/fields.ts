/**
 * A field reads one environment variable and turns it into a typed value, or says
 * precisely why it cannot. Fields are plain data so that the list of variables a
 * service reads can be inspected (docs, docker-compose checks).
 */
export interface Field<T> {
  readonly variable: string;
  readonly description: string;
  /** The value used when the variable is unset or empty; undefined means required. */
  readonly fallback: string | undefined;
  parse(raw: string): { ok: true; value: T } | { ok: false; problem: string };
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

function field<T>(
  variable: string,
  description: string,
  fallback: string | undefined,
  parse: (raw: string) => Parsed<T>,
): Field<T> {
  return { variable, description, fallback, parse };
}

export function text(variable: string, description: string, fallback?: string): Field<string> {
  return field(variable, description, fallback, (raw) => ({ ok: true, value: raw }));
}

export function optionalText(variable: string, description: string): Field<string | undefined> {
  return field(variable, description, "", (raw) => ({ ok: true, value: raw === "" ? undefined : raw }));
}

export function port(variable: string, description: string, fallback: number): Field<number> {
  return field(variable, description, String(fallback), (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < 0 || n > 65535) {
      return { ok: false, problem: `must be a TCP port number (0-65535), got '${raw}'` };
    }
    return { ok: true, value: n };
  });
}

export function positiveInt(variable: string, description: string, fallback: number): Field<number> {
  return field(variable, description, String(fallback), (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || !Number.isSafeInteger(n)) {
      return { ok: false, problem: `must be a positive integer, got '${raw}'` };
    }
    return { ok: true, value: n };
  });
}

export function url(variable: string, description: string, protocols: string[], fallback?: string): Field<string> {
  return field(variable, description, fallback, (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return { ok: false, problem: `must be a URL (${protocols.join(" or ")}), got '${raw}'` };
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ""))) {
      return { ok: false, problem: `must use ${protocols.map((p) => p + "://").join(" or ")}, got '${raw}'` };
    }
    return { ok: true, value: raw };
  });
}

/** A URL, or unset (undefined): for an optional peer whose absence switches a feature off. */
export function optionalUrl(variable: string, description: string, protocols: string[]): Field<string | undefined> {
  const given = url(variable, description, protocols);
  return field(variable, description, "", (raw) => (raw === "" ? { ok: true, value: undefined } : given.parse(raw)));
}

const FLAG_VALUES: Record<string, boolean> = { true: true, yes: true, on: true, "1": true, false: false, no: false, off: false, "0": false };

/** A yes/no value as `flag` reads it; undefined when it is neither. */
export function parseFlag(raw: string): boolean | undefined {
  return FLAG_VALUES[raw.trim().toLowerCase()];
}

/** A yes/no switch: true, yes, on, 1 or false, no, off, 0. */
export function flag(variable: string, description: string, fallback: boolean): Field<boolean> {
  return field(variable, description, String(fallback), (raw) => {
    const value = parseFlag(raw);
    if (value === undefined) return { ok: false, problem: `must be true or false (also yes/no, on/off, 1/0), got '${raw}'` };
    return { ok: true, value };
  });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations written like `90s`, `15m`, `2h`, `5d` (or `250ms`) into milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(raw.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as string]!;
}

export function duration(variable: string, description: string, fallback: string): Field<number> {
  return field(variable, description, fallback, (raw) => {
    const ms = parseDuration(raw);
    if (ms === undefined) {
      return { ok: false, problem: `must be a duration like 90s, 15m, 2h or 5d, got '${raw}'` };
    }
    return { ok: true, value: ms };
  });
}

/** A duration, or `off` (null): for features an operator may switch off. */
export function durationOrOff(variable: string, description: string, fallback: string): Field<number | null> {
  return field(variable, description, fallback, (raw) => {
    if (raw.trim().toLowerCase() === "off") return { ok: true, value: null };
    const ms = parseDuration(raw);
    if (ms === undefined) {
      return { ok: false, problem: `must be a duration like 90s, 15m, 2h or 5d, or off, got '${raw}'` };
    }
    return { ok: true, value: ms };
  });
}

export function hostname(variable: string, description: string, fallback: string): Field<string> {
  return field(variable, description, fallback, (raw) => {
    // RFC 1123 host name: labels of letters, digits and hyphens.
    if (!/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(raw)) {
      return { ok: false, problem: `must be a host name like mail.example.com, got '${raw}'` };
    }
    return { ok: true, value: raw.toLowerCase() };
  });
}

export function namePrefix(variable: string, description: string, fallback: string): Field<string> {
  return field(variable, description, fallback, (raw) => {
    if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(raw)) {
      return { ok: false, problem: `must be 1-40 characters of a-z, 0-9, '-' or '_', got '${raw}'` };
    }
    return { ok: true, value: raw };
  });
}

export function oneOf<const T extends string>(variable: string, description: string, values: readonly T[], fallback: T): Field<T> {
  return field(variable, description, fallback, (raw) => {
    if (!(values as readonly string[]).includes(raw)) {
      return { ok: false, problem: `must be one of ${values.join(", ")}, got '${raw}'` };
    }
    return { ok: true, value: raw as T };
  });
}

/** Comma-separated domain names (e.g. TRUSTED_ARC_SEALERS), lower-cased; empty: none. */
export function domainList(variable: string, description: string): Field<string[]> {
  return field(variable, description, "", (raw) => {
    const names = raw.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
    const bad = names.find((n) => !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(n));
    if (bad !== undefined) return { ok: false, problem: `must be domain names separated by commas, got '${bad}'` };
    return { ok: true, value: names };
  });
}

/** A comma-separated list of secrets (unset: none). Problems never echo a secret. */
export function secretList(variable: string, description: string): Field<string[]> {
  return field(variable, description, "", (raw) => {
    if (raw === "") return { ok: true, value: [] };
    const secrets = raw.split(",").map((s) => s.trim());
    const empty = secrets.findIndex((s) => s === "");
    if (empty >= 0) return { ok: false, problem: `has an empty secret at position ${empty + 1} of ${secrets.length} (a stray comma?)` };
    return { ok: true, value: secrets };
  });
}

export function optionalHostname(variable: string, description: string): Field<string | undefined> {
  const named = hostname(variable, description, "");
  return field(variable, description, "", (raw) => (raw === "" ? { ok: true, value: undefined } : named.parse(raw)));
}

/** An e-mail address (local-part@domain, no spaces or angle brackets), or unset. */
export function optionalAddress(variable: string, description: string): Field<string | undefined> {
  return field(variable, description, "", (raw) => {
    if (raw === "") return { ok: true, value: undefined };
    if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(raw)) return { ok: false, problem: `must be an e-mail address (local-part@domain), got '${raw}'` };
    return { ok: true, value: raw.toLowerCase() };
  });
}
