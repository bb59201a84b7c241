import { SMTPConnection } from "smtp-server/lib/smtp-connection";

const ENHANCED_PREFIX = /^([245]\.\d{1,3}\.\d{1,3}) /;

let installed = false;

/**
 * smtp-server derives the RFC 3463 enhanced status code of an application's reply
 * from its basic code only (any 554 becomes 5.6.0, any 550 becomes 5.1.1). Our
 * replies carry their own (`replies.ts`), written at the start of the text: this makes
 * the connection use that code instead of the derived one, and only then. Installed
 * once, before any listener starts.
 */
export function installEnhancedStatusCodes(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    send(code: number, data?: unknown, context?: unknown): void;
    _getEnhancedStatusCode(code: number, context?: unknown): string;
  };
  const send = proto.send;
  proto.send = function (this: { _explicitEnhanced?: string }, code: number, data?: unknown, context?: unknown) {
    const m = typeof data === "string" && code >= 200 && context !== false ? ENHANCED_PREFIX.exec(data) : null;
    if (!m || !data) return send.call(this, code, data, context);
    this._explicitEnhanced = m[1];
    try {
      return send.call(this, code, (data as string).slice(m[0].length), context);
    } finally {
      this._explicitEnhanced = undefined;
    }
  };
  const derive = proto._getEnhancedStatusCode;
  proto._getEnhancedStatusCode = function (this: { _explicitEnhanced?: string }, code: number, context?: unknown) {
    const derived = derive.call(this, code, context);
    return derived && this._explicitEnhanced ? this._explicitEnhanced : derived;
  };
}
