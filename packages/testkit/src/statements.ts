import type pg from "pg";

export interface StatementRecorder {
  /** The first three words of every statement sent since recordStatements() resolved. */
  readonly statements: string[];
  /** Puts pg.Client.prototype.query back; call it in a finally. */
  restore(): void;
}

/**
 * Records every statement any pg client sends until restore(): a pool's statements all go
 * through its clients' query (pg.Client.prototype), which this wraps. For tests that count
 * the statements one operation costs.
 */
export async function recordStatements(pool: pg.Pool): Promise<StatementRecorder> {
  const statements: string[] = [];
  const probe = await pool.connect();
  const proto = Object.getPrototypeOf(probe) as { query: (...a: unknown[]) => unknown };
  probe.release();
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string }).text;
    statements.push(String(text).trim().split(/\s+/).slice(0, 3).join(" "));
    return query.apply(this, args);
  };
  return {
    statements,
    restore: () => {
      proto.query = query;
    },
  };
}
