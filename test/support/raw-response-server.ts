import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ResponseCase } from './response-primitives.js';

/** The fixed answer to `GET /second` on a kept connection. */
export const secondResponse = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1');

/**
 * A raw `net` server on 127.0.0.1 that replays response byte streams.
 * `GET /case/<index>?fetch=<tag>` is answered with the case's bytes, written
 * in its splits with a pause between pieces; the server then closes (FIN),
 * resets (RST) or keeps the connection, as the case says. On a kept
 * connection `GET /second?fetch=<tag>` gets `secondResponse`. Requests on one
 * connection are answered in order, each after the previous one was written.
 *
 * The tag names one fetch (one client, one case), so that many fetches can
 * run at once; reuse is observed here, per tag: did `/second` arrive on the
 * TCP connection that carried `/case/N`.
 */
export interface RawResponseServer {
  readonly port: number;
  /** Resolves once the case for `tag` was fully written and the connection closed, reset or kept as the case says. */
  written(tag: string): Promise<void>;
  /** True when `/second` for `tag` arrived on the connection of its `/case/N`; false when elsewhere or not at all. */
  reused(tag: string): boolean;
  /** Every request line each connection received, in order (for diagnostics). */
  connections(): readonly (readonly string[])[];
  close(): Promise<void>;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const headEnd = Buffer.from('\r\n\r\n', 'latin1');

export async function startRawResponseServer(cases: readonly ResponseCase[]): Promise<RawResponseServer> {
  const sockets = new Set<Socket>();
  const requestLog: string[][] = [];
  const caseConnection = new Map<string, number>();
  const secondConnections = new Map<string, number[]>();
  const writtenByTag = new Map<string, Deferred>();
  const writtenFor = (tag: string): Deferred => {
    let entry = writtenByTag.get(tag);
    if (entry === undefined) {
      entry = deferred();
      writtenByTag.set(tag, entry);
    }
    return entry;
  };

  /** Answers one request; returns false when the connection is finished. */
  async function answer(socket: Socket, connection: number, target: string): Promise<boolean> {
    const url = new URL(target, 'http://raw.invalid');
    const tag = url.searchParams.get('fetch') ?? '';
    if (url.pathname === '/second') {
      secondConnections.set(tag, [...(secondConnections.get(tag) ?? []), connection]);
      socket.write(secondResponse);
      return true;
    }
    const match = /^\/case\/(\d+)$/.exec(url.pathname);
    const responseCase = match === null ? undefined : cases[Number(match[1])];
    if (responseCase === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return false;
    }
    caseConnection.set(tag, connection);
    try {
      const pause = responseCase.pauseMs ?? 1;
      let start = 0;
      for (const end of [...responseCase.splits, responseCase.bytes.length]) {
        if (start > 0) await delay(pause);
        if (socket.destroyed) break;
        if (end > start) socket.write(responseCase.bytes.subarray(start, end));
        start = end;
      }
      if (responseCase.afterWrite === 'keep') return true;
      // Let the last piece leave before the FIN or RST (an RST can discard data still queued).
      await delay(pause);
      if (responseCase.afterWrite === 'close') socket.end();
      else if (!socket.destroyed) socket.resetAndDestroy();
      return false;
    } finally {
      writtenFor(tag).resolve();
    }
  }

  const server: Server = createServer((socket) => {
    const connection = requestLog.length;
    const log: string[] = [];
    requestLog.push(log);
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let queue = Promise.resolve(true);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let end = buffered.indexOf(headEnd); end !== -1; end = buffered.indexOf(headEnd)) {
        const requestLine = buffered.toString('latin1', 0, buffered.indexOf('\r\n'));
        buffered = buffered.subarray(end + headEnd.length);
        log.push(requestLine);
        const target = requestLine.split(' ')[1] ?? '/';
        // In order, each after the previous answer was written; nothing after a close.
        queue = queue.then((open) => (open && !socket.destroyed ? answer(socket, connection, target) : false)).catch(() => false);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    written: (tag) => writtenFor(tag).promise,
    reused: (tag) => {
      const connection = caseConnection.get(tag);
      return connection !== undefined && (secondConnections.get(tag) ?? []).includes(connection);
    },
    connections: () => requestLog,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
