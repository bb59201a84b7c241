import { request } from "node:http";

export interface RawHttpRequest {
  method: string;
  /** Sent as it is (no URL normalisation), so tests can send any path and query. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Source address of the connection (any of 127/8 on Linux). */
  localAddress?: string;
}

export interface RawHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP/1.1 request on its own connection; rejects after `timeoutMs` without a full answer (a hang). */
export function rawHttp(port: number, req: RawHttpRequest, timeoutMs = 10_000): Promise<RawHttpResponse> {
  // Node frames no body for GET, DELETE … unless told its length: say it, or the body would read as a second request.
  const headers = req.body === undefined ? req.headers : { ...req.headers, "content-length": String(Buffer.byteLength(req.body)) };
  return new Promise((resolve, reject) => {
    const r = request(
      { host: "127.0.0.1", port, method: req.method, path: req.path, headers, localAddress: req.localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer to ${req.method} ${req.path} within ${timeoutMs} ms`)));
    r.on("error", reject);
    r.end(req.body);
  });
}
