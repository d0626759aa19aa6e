import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server, ServerOptions, Socket } from 'socket.io-v3' with { 'resolution-mode': 'require' };

/** socket.io@3 is CommonJS; its ESM wrapper carries no types. */
const { Server: ServerV3 } = createRequire(import.meta.url)('socket.io-v3') as { Server: new (http: HttpServer, options: Partial<ServerOptions>) => Server };

/** socket.io 3.1 (Engine.IO 4; Engine.IO 3 clients too with `allowEIO3`), as its users configure it. */
export interface SocketIoV3Options {
  readonly allowEIO3?: boolean;
  readonly pingIntervalMs?: number;
  readonly pingTimeoutMs?: number;
  readonly transports?: readonly ('polling' | 'websocket')[];
  /** How long to hold a `msg` broadcast whose payload has `user` and `round` (default: not at all). */
  readonly delayMs?: (user: number, round: number) => number;
}

export interface SocketIoV3Server {
  /** http://127.0.0.1:port */
  readonly url: string;
  readonly stats: {
    /** Per (receiver, sender) pair, copies the server emitted after a later broadcast of the same sender to the same receiver. */
    reordered(): number;
    /** Copies the server emitted to a receiver after one of a broadcast it accepted later, whoever sent either. */
    overtaken(): number;
    /** `answered` events sent: acks the clients gave to `question`. */
    answered(): number;
  };
  close(): Promise<void>;
}

interface Broadcast {
  readonly sender: string;
  /** The sender's own count of its broadcasts, from 0. */
  readonly index: number;
  /** The server's count of broadcasts accepted, from 0. */
  readonly accepted: number;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Starts socket.io 3 on 127.0.0.1, port 0. A middleware refuses connects whose
 * auth (or, for Engine.IO 3 clients, query) holds `refuse`, with its text as
 * the reason. On connection the server emits `welcome` (just after its `40`).
 * Events: `two` → `first`, `second` back to back; `bin` → `blob` with binary
 * attachments starting with the bytes `1`, `2` and `42["fake"`, then `done`;
 * `ask` → `question` asking for an ack, then `answered` once it comes;
 * `auth` {id, groupId} → joins the group's room, `auth_result`; `msg`
 * {content, user, round} → after `delayMs(user, round)`, `msg` to the group
 * (sender included), and at once `msg_result`.
 */
export async function startSocketIoV3(options: SocketIoV3Options = {}): Promise<SocketIoV3Server> {
  const http: HttpServer = createServer();
  const io = new ServerV3(http, {
    path: '/socket.io',
    serveClient: false,
    perMessageDeflate: false,
    allowEIO3: options.allowEIO3 ?? false,
    pingInterval: options.pingIntervalMs ?? 25_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
    transports: [...(options.transports ?? ['polling', 'websocket'])],
  });
  const counts = { reordered: 0, overtaken: 0, answered: 0, accepted: 0 };
  /** Per receiver socket id and sender: the highest broadcast index emitted to it. */
  const lastIndex = new Map<string, Map<string, number>>();
  /** Per receiver socket id: the highest accept count emitted to it. */
  const lastAccepted = new Map<string, number>();
  const sentBy = new Map<string, number>();

  io.use((socket, next) => {
    const refuse = field(socket.handshake.auth, 'refuse') ?? socket.handshake.query.refuse;
    next(refuse === undefined ? undefined : new Error(String(refuse)));
  });
  io.on('connection', (socket: Socket) => {
    let member = { id: '', group: '' };
    socket.emit('welcome', { id: socket.id });
    socket.on('two', () => {
      socket.emit('first', { n: 1 });
      socket.emit('second', { n: 2 });
    });
    socket.on('bin', () => {
      socket.emit('blob', { kind: 'blob', close: Buffer.from('1 would close'), ping: Buffer.from('2 would ping'), fake: Buffer.from('42["fake",1]') });
      socket.emit('done', { n: 3 });
    });
    socket.on('ask', () => {
      socket.emit('question', { q: 1 }, (...answer: unknown[]) => {
        counts.answered += 1;
        socket.emit('answered', { args: answer });
      });
    });
    socket.on('auth', (payload: unknown) => {
      void socket.join(`g${String(field(payload, 'groupId'))}`);
      member = { id: String(field(payload, 'id')), group: String(field(payload, 'groupId')) };
      socket.emit('auth_result', { success: true });
    });
    socket.on('msg', (payload: unknown) => {
      const { id, group } = member;
      const index = sentBy.get(id) ?? 0;
      sentBy.set(id, index + 1);
      const delayMs = options.delayMs?.(Number(field(payload, 'user')), Number(field(payload, 'round'))) ?? 0;
      const message = { from: id, content: field(payload, 'content') };
      const accepted = counts.accepted;
      counts.accepted += 1;
      setTimeout(() => relay(io, group, message, { sender: id, index, accepted }), delayMs);
      socket.emit('msg_result', { success: true });
    });
  });

  /** Emits to every member and counts, per receiver, the sender's broadcasts that overtook this one. */
  function relay(server: Server, group: string, message: object, broadcast: Broadcast): void {
    for (const id of server.sockets.adapter.rooms.get(`g${group}`) ?? []) {
      const seen = lastIndex.get(id) ?? new Map<string, number>();
      lastIndex.set(id, seen);
      const last = seen.get(broadcast.sender) ?? -1;
      if (broadcast.index < last) counts.reordered += 1;
      else seen.set(broadcast.sender, broadcast.index);
      if (broadcast.accepted < (lastAccepted.get(id) ?? -1)) counts.overtaken += 1;
      else lastAccepted.set(id, broadcast.accepted);
    }
    server.to(`g${group}`).emit('msg', message);
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    stats: { reordered: () => counts.reordered, overtaken: () => counts.overtaken, answered: () => counts.answered },
    close: () => new Promise<void>((resolve) => {
      io.close(() => resolve());
    }),
  };
}
