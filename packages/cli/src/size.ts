/** `1048576`, `512K`, `100M`, `2G`, `1T` (powers of 1024) → bytes; `none` → null (no quota). */
export function parseSize(text: string): number | null | undefined {
  const t = text.trim();
  if (/^(none|unlimited)$/i.test(t)) return null;
  const m = /^(\d+)\s*([KMGT]i?B?|B)?$/i.exec(t);
  if (!m) return undefined;
  const unit = (m[2] ?? "B").charAt(0).toUpperCase();
  const exp = { B: 0, K: 1, M: 2, G: 3, T: 4 }[unit] ?? 0;
  const bytes = Number(m[1]) * 1024 ** exp;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** 1073741824 → `1G`; null → `-`. */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return "-";
  for (const [unit, exp] of [["T", 4], ["G", 3], ["M", 2], ["K", 1]] as const) {
    if (bytes % 1024 ** exp === 0) return `${bytes / 1024 ** exp}${unit}`;
  }
  return String(bytes);
}
