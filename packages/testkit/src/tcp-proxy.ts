import { createConnection, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** The loopback port clients connect to. */
  port: number;
  /** Stops forwarding in both directions: connections stay open, bytes wait (a stalled peer). */
  pause(): void;
  /** Forwards again, the bytes that waited first. */
  resume(): void;
  /** Destroys every forwarded connection (a peer that went away); the proxy keeps listening. */
  dropConnections(): void;
  /** While on, new connections are closed as soon as they are accepted (a server that is down). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

/**
 * A real TCP proxy on loopback in front of `target`, for tests that must stall or cut
 * one process's connection to a shared server without touching the server itself.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let paused = false;
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    // Plain 'data' handlers rather than pipe(): pipe() would resume a paused socket on 'drain'.
    client.on("data", (b) => upstream.write(b));
    upstream.on("data", (b) => client.write(b));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
    if (paused) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    pause() {
      paused = true;
      for (const [a, b] of pairs) {
        a.pause();
        b.pause();
      }
    },
    resume() {
      paused = false;
      for (const [a, b] of pairs) {
        a.resume();
        b.resume();
      }
    },
    refuse(on) {
      refusing = on;
    },
    dropConnections() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
