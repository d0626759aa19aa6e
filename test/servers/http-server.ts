import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the test server answers; every field optional. */
export interface HttpBehaviour {
  /** Status of every response (default 200). */
  readonly status?: number;
  /** Response body (default 172 bytes). */
  readonly body?: Buffer;
  /**
   * Holds every response that arrives in [afterMs, afterMs + forMs) after
   * the first request until the window ends (a server that stalls mid-run).
   */
  readonly stall?: { readonly afterMs: number; readonly forMs: number };
  /** Send bodies chunked (no content-length). */
  readonly chunked?: boolean;
  /** Answer every Nth request with `connection: close` and close the connection. */
  readonly closeEvery?: number;
  /** Per path (as requested, query included): hold its responses this many milliseconds. */
  readonly delayMs?: Readonly<Record<string, number>>;
  /** Per path: answer with this status instead of `status`. */
  readonly statusOf?: Readonly<Record<string, number>>;
}

/** A real HTTP server on 127.0.0.1, port 0, that counts every request it receives. */
export interface CountingServer {
  readonly url: string;
  /** Requests received so far (counted on arrival). */
  readonly received: () => number;
  /** Requests received per path. */
  readonly paths: Map<string, number>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/** Starts a counting HTTP server with the given behaviour. */
export async function startHttpServer(behaviour: HttpBehaviour = {}): Promise<CountingServer> {
  const body = behaviour.body ?? Buffer.alloc(172, 'x');
  const defaultStatus = behaviour.status ?? 200;
  const paths = new Map<string, number>();
  let received = 0;
  let firstAt: number | undefined;
  const respond = (response: ServerResponse, path = ''): void => {
    const status = behaviour.statusOf?.[path] ?? defaultStatus;
    if (behaviour.closeEvery !== undefined && received % behaviour.closeEvery === 0) response.setHeader('connection', 'close');
    if (behaviour.chunked === true) {
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.write(body.subarray(0, 50));
      response.end(body.subarray(50));
      return;
    }
    response.writeHead(status, { 'content-type': 'text/plain', 'content-length': body.length });
    response.end(body);
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    received += 1;
    const path = request.url ?? '/';
    paths.set(path, (paths.get(path) ?? 0) + 1);
    const now = performance.now();
    firstAt ??= now;
    request.resume();
    const stall = behaviour.stall;
    const sinceFirst = now - firstAt;
    if (stall !== undefined && sinceFirst >= stall.afterMs && sinceFirst < stall.afterMs + stall.forMs) {
      setTimeout(() => respond(response, path), stall.afterMs + stall.forMs - sinceFirst);
      return;
    }
    const delay = behaviour.delayMs?.[path];
    if (delay !== undefined) {
      setTimeout(() => respond(response, path), delay);
      return;
    }
    respond(response, path);
  });
  server.keepAliveTimeout = 60_000;
  const url = await listen(server);
  return {
    url,
    received: () => received,
    paths,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
