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
