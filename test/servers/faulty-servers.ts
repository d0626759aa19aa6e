import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A raw TCP server on 127.0.0.1 for faults HTTP servers cannot produce. */
export interface FaultyServer {
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

async function start(onSocket: (socket: Socket) => void): Promise<FaultyServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Resets (RST) every connection as soon as a request arrives. */
export function startResettingServer(): Promise<FaultyServer> {
  return start((socket) => socket.once('data', () => socket.resetAndDestroy()));
}

/** Accepts connections and never answers. */
export function startSilentServer(): Promise<FaultyServer> {
  return start((socket) => socket.resume());
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function refusedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A server that answers each request (one per "\r\n\r\n"; GETs only) through `answer`, counting requests. */
export interface ScriptedServer extends FaultyServer {
  /** Requests received so far, over all connections. */
  readonly requests: () => number;
}

/**
 * Answers every request with `answer(socket, index)` (index counts requests
 * over all connections). For faults in how responses are framed.
 */
export async function startScriptedServer(answer: (socket: Socket, index: number, head: Buffer) => void): Promise<ScriptedServer> {
  let requests = 0;
  const server = await start((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      let end = buffered.indexOf('\r\n\r\n');
      while (end >= 0) {
        const head = buffered.subarray(0, end + 4);
        buffered = buffered.subarray(end + 4);
        answer(socket, requests, head);
        requests += 1;
        end = buffered.indexOf('\r\n\r\n');
      }
    });
  });
  return { ...server, requests: () => requests };
}
