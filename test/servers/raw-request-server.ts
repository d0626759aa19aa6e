import { createServer, type AddressInfo, type Socket } from 'node:net';

/** One request as it arrived on the wire. */
export interface RawRequest {
  readonly method: string;
  readonly target: string;
  /** Header names lowercase, in order. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** The connection it came on (1, 2, …) and its position there (0, 1, …). */
  readonly connection: number;
  readonly position: number;
}

/** A raw `net` server on 127.0.0.1 that hands each request (head and content-length body) to a script. */
export interface RawRequestServer {
  readonly url: string;
  readonly requests: RawRequest[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Starts the server. `answer` writes whatever it likes to the socket (and
 * may end or destroy it); requests that arrive after the socket ended are
 * recorded but not answered.
 */
export async function startRawRequestServer(answer: (socket: Socket, request: RawRequest) => void): Promise<RawRequestServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    const connection = (connections += 1);
    let position = 0;
    let buffered = Buffer.alloc(0);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buffered.subarray(0, end).toString('utf8').split('\r\n');
        const [method = '', target = ''] = (lines[0] ?? '').split(' ');
        const headers = lines.slice(1).map((line): readonly [string, string] => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]);
        const length = Number(headers.find(([name]) => name === 'content-length')?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = { method, target, headers, body: buffered.subarray(end + 4, end + 4 + length), connection, position };
        buffered = buffered.subarray(end + 4 + length);
        position += 1;
        requests.push(request);
        if (socket.writable) answer(socket, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connections: () => connections,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A 200 with `body` and a content-length; `close` adds `connection: close`. */
export function okResponse(body: string, close = false): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}
