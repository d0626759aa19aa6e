import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket as TcpSocket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Server as ServerV4 } from 'socket.io';

/** What one group member gets of one broadcast: once, nothing, or twice. */
export type Delivery = 'deliver' | 'drop' | 'duplicate';

/** A case-B push server (ticket, auth, group broadcast), scriptable per delivery. */
export interface SocketIoServerOptions {
  /** 4: socket.io v4 (Engine.IO 4); 2: socket.io@2 (Engine.IO 3). */
  readonly version: 4 | 2;
  /**
   * Decides per member what it gets of broadcast `broadcastIndex` (type-1 `msg`
   * events accepted, counted from 0 server-wide, across restarts). Default 'deliver'.
   */
  readonly deliver?: (broadcastIndex: number, memberId: string, groupId: string) => Delivery;
  /** User ids outside the group that get broadcast `broadcastIndex` once as well. */
  readonly extraRecipients?: (broadcastIndex: number, groupId: string) => readonly string[];
}

/** Counters since start or the last restart, except `broadcasts`, which never resets. */
export interface SocketIoServerStats {
  /** Successful `auth` events. */
  authed(): number;
  /** Type-1 `msg` events accepted (the next broadcastIndex). */
  broadcasts(): number;
  /** `msg` emits to recipients, duplicates and extra recipients included. */
  delivered(): number;
  /** Socket.IO connections open now. */
  connected(): number;
}

export interface SocketIoTestServer {
  /** http://127.0.0.1:port: the ticket API and the Socket.IO node. */
  readonly url: string;
  readonly port: number;
  readonly stats: SocketIoServerStats;
  /** Destroys every client TCP socket (clients see an abnormal close) and stops listening. */
  kill(): Promise<void>;
  /** Listens again on the same port with fresh state (kills first if still listening). */
  restart(): Promise<void>;
  /** Disconnects every client cleanly and stops listening. */
  close(): Promise<void>;
}

/** The part of a server socket, of either major version, that the handlers use. */
interface IoSocket {
  readonly id: string;
  join(room: string): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  disconnect(close: boolean): unknown;
}

/** The part of a Socket.IO server, of either major version, used here. */
interface IoServer {
  on(event: 'connection', listener: (socket: IoSocket) => void): unknown;
  close(): unknown;
}

interface Member {
  readonly socket: IoSocket;
  /** Ids as strings, for lookups and comparisons. */
  readonly id: string;
  readonly groupId: string;
  /** Ids as the client sent them, echoed back in `msg`. */
  readonly rawId: unknown;
  readonly rawGroupId: unknown;
}

/** State of one listening period: from start or restart to kill or close. */
interface Session {
  readonly sockets: Set<IoSocket>;
  readonly groups: Map<string, Set<Member>>;
  readonly users: Map<string, Set<Member>>;
  authed: number;
  delivered: number;
}

/** A fresh object per server: socket.io@2 writes into the one it gets (allowRequest, initialPacket). */
const ioOptions = () => ({ path: '/socket.io', perMessageDeflate: false, serveClient: false });
const require = createRequire(import.meta.url);

function isIoServer(value: unknown): value is IoServer {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { on?: unknown; close?: unknown };
  return typeof candidate.on === 'function' && typeof candidate.close === 'function';
}

/** socket.io@2 is CommonJS and its types do not match: load it and check its shape. */
function createV2(http: HttpServer): IoServer {
  const factory: unknown = require('socket.io-v2');
  if (typeof factory !== 'function') throw new TypeError('socket.io-v2 does not export a function');
  const io: unknown = factory(http, ioOptions());
  if (!isIoServer(io)) throw new TypeError('socket.io-v2 returned no server');
  return io;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function add(map: Map<string, Set<Member>>, key: string, member: Member): void {
  const set = map.get(key) ?? new Set<Member>();
  map.set(key, set.add(member));
}

function remove(map: Map<string, Set<Member>>, key: string, member: Member): void {
  const set = map.get(key);
  if (set?.delete(member) === true && set.size === 0) map.delete(key);
}

function ticket(url: string) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const reply = (status: number, body: object): void => {
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    };
    const parsed = new URL(request.url ?? '/', url);
    if (request.method !== 'GET' || parsed.pathname !== '/ticket') return reply(404, { error: 'not found' });
    const userId = parsed.searchParams.get('userId');
    if (userId === null || userId === '') return reply(400, { error: 'missing userId' });
    return reply(200, { url, token: `t-${userId}` });
  };
}

/** What outlives a restart: the options and the broadcast counter. */
interface Shared {
  readonly options: SocketIoServerOptions;
  broadcasts: number;
}

/** One listening period: an HTTP server, its Socket.IO server, the TCP sockets under them. */
interface Incarnation {
  readonly session: Session;
  readonly tcp: Set<TcpSocket>;
  readonly http: HttpServer;
  readonly io: IoServer;
  readonly url: string;
}

/** Delivers one broadcast member by member (instead of to the room), so each can be dropped or doubled. */
function broadcast(shared: Shared, session: Session, sender: Member, content: unknown): void {
  const index = shared.broadcasts;
  shared.broadcasts += 1;
  const message = { from: sender.rawId, groupId: sender.rawGroupId, type: 1, content };
  const send = (member: Member, times: number): void => {
    for (let i = 0; i < times; i += 1) member.socket.emit('msg', message);
    session.delivered += times;
  };
  for (const member of [...(session.groups.get(sender.groupId) ?? [])]) {
    const delivery = shared.options.deliver?.(index, member.id, sender.groupId) ?? 'deliver';
    send(member, delivery === 'drop' ? 0 : delivery === 'duplicate' ? 2 : 1);
  }
  for (const userId of shared.options.extraRecipients?.(index, sender.groupId) ?? []) {
    for (const member of session.users.get(userId) ?? []) send(member, 1);
  }
}

/** Case B's events on one socket: `auth` makes it a group member, `msg` type 1 broadcasts to the group. */
function onConnection(shared: Shared, session: Session, socket: IoSocket): void {
  let member: Member | undefined;
  const forget = (): void => {
    if (member === undefined) return;
    remove(session.groups, member.groupId, member);
    remove(session.users, member.id, member);
  };
  session.sockets.add(socket);
  socket.on('disconnect', () => {
    session.sockets.delete(socket);
    forget();
  });
  socket.on('auth', (payload: unknown) => {
    const rawId = field(payload, 'id');
    const rawGroupId = field(payload, 'groupId');
    if (rawId === undefined || rawGroupId === undefined || String(field(payload, 'token')) !== `t-${String(rawId)}`) {
      socket.emit('auth_result', { success: false, reason: 'bad token' });
      return;
    }
    forget();
    member = { socket, id: String(rawId), groupId: String(rawGroupId), rawId, rawGroupId };
    add(session.groups, member.groupId, member);
    add(session.users, member.id, member);
    socket.join(`g${member.groupId}`);
    session.authed += 1;
    socket.emit('auth_result', { success: true });
  });
  socket.on('msg', (payload: unknown, ack: unknown) => {
    const answer = (result: object): void => {
      if (typeof ack === 'function') ack(result);
      socket.emit('msg_result', result);
    };
    if (member === undefined) return answer({ success: false, reason: 'not authed' });
    if (String(field(payload, 'type')) !== '1') return answer({ success: false, reason: 'unsupported type' });
    broadcast(shared, session, member, field(payload, 'content'));
    return answer({ success: true });
  });
}

async function listen(shared: Shared, port: number): Promise<Incarnation> {
  const session: Session = { sockets: new Set(), groups: new Map(), users: new Map(), authed: 0, delivered: 0 };
  const tcp = new Set<TcpSocket>();
  let answer = ticket('');
  const http = createServer((request, response) => answer(request, response));
  http.on('connection', (socket: TcpSocket) => {
    tcp.add(socket);
    socket.once('close', () => tcp.delete(socket));
  });
  const io: IoServer = shared.options.version === 4 ? new ServerV4(http, ioOptions()) : createV2(http);
  io.on('connection', (socket) => onConnection(shared, session, socket));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  answer = ticket(url);
  return { session, tcp, http, io, url };
}

const closed = (http: HttpServer): Promise<void> => new Promise((resolve) => http.once('close', () => resolve()));

/** Destroys every TCP socket and stops listening; resolves once Socket.IO has seen every disconnect. */
async function kill({ http, tcp, session }: Incarnation): Promise<void> {
  if (!http.listening) return;
  const done = closed(http);
  // Engine.IO closes itself on the HTTP server's 'close'; no Socket.IO goodbye reaches anyone.
  for (const socket of tcp) socket.destroy();
  http.close();
  await done;
  // Socket.IO sees each TCP close a tick or two late (ws finishes its receiver first).
  for (let waited = 0; session.sockets.size > 0 && waited < 1000; waited += 5) await delay(5);
}

/** Disconnects every socket (`41`, then a WebSocket close) and stops listening. */
async function shutdown({ http, tcp, session, io }: Incarnation): Promise<void> {
  if (!http.listening) return;
  const done = closed(http);
  for (const socket of [...session.sockets]) socket.disconnect(true);
  io.close();
  // A client that never answers the WebSocket close frame must not hold the test up.
  const timer = setTimeout(() => {
    for (const socket of tcp) socket.destroy();
  }, 500);
  await done;
  clearTimeout(timer);
}

/** Starts a case-B Socket.IO server on 127.0.0.1, port 0. */
export async function startSocketIoServer(options: SocketIoServerOptions): Promise<SocketIoTestServer> {
  const shared: Shared = { options, broadcasts: 0 };
  let current = await listen(shared, 0);
  const port = (current.http.address() as AddressInfo).port;
  return {
    url: current.url,
    port,
    stats: {
      authed: () => current.session.authed,
      broadcasts: () => shared.broadcasts,
      delivered: () => current.session.delivered,
      connected: () => current.session.sockets.size,
    },
    kill: () => kill(current),
    restart: async () => {
      await kill(current);
      current = await listen(shared, port);
    },
    close: () => shutdown(current),
  };
}
