import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { isIP } from 'node:net';
import { messageOf, UsageError } from '../errors.js';
import { spearVersion } from '../version.js';
import { wireVersion } from '../wire/messages.js';
import { parseCoordinatorMessage } from '../wire/parse.js';
import { WebSocketTransport } from '../wire/web-socket-transport.js';
import { serveCoordinator, type CoordinatorLink } from './agent.js';
import type { TargetPolicy } from './target-policy.js';

/** Largest coordinator message an agent accepts (a plan with its feeder rows is the largest). */
const maxWireMessageBytes = 64 * 1024 * 1024;

/** The path coordinators dial; anything else is refused. */
export const agentPath = '/spear';

export interface AgentServerOptions {
  readonly host: string;
  readonly port: number;
  /** Shared secret every coordinator must present; undefined only on loopback. */
  readonly token: string | undefined;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Where runs may send load; undefined = anywhere. */
  readonly targetPolicy?: TargetPolicy | undefined;
  /** Test-only: pretend to speak another wire version (SPEAR_TEST_WIRE_VERSION). */
  readonly wireVersion?: number;
  /** One line per event worth a log (a coordinator came, went, was refused). */
  readonly log: (line: string) => void;
}

export interface AgentServer {
  readonly url: string;
  close(): Promise<void>;
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function refuse(socket: Socket, status: number, reason: string, message: string): void {
  const body = Buffer.from(message);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString()}`);
}

/**
 * `spear agent --listen`: waits for a coordinator over WebSocket, serves one
 * run at a time, and goes back to waiting when the coordinator leaves (its
 * load stops at once: the dead-man switch lives in serveCoordinator). A
 * coordinator must present the token and speak this wire version.
 */
export async function listenForCoordinators(options: AgentServerOptions): Promise<AgentServer> {
  const answerPlainRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end(`spear agent ${spearVersion}: coordinators connect over WebSocket at ${agentPath}\n`);
  };
  const server = options.tls === undefined ? createServer(answerPlainRequest) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, answerPlainRequest);
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: maxWireMessageBytes });
  const speaks = options.wireVersion ?? wireVersion;
  let busyWith: string | undefined;
  const pending = new PendingConnections(options.log);
  // Raw TCP sockets (under TLS too: the cap and the timer must cover slow handshakes).
  server.on('connection', (socket: Socket) => pending.admit(socket));
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    // Subtleness ahead: node:http removes its own error listener from a socket it hands to 'upgrade'.
    // A peer resetting while we answer would then raise an unhandled 'error' and take the agent down.
    socket.on('error', ignoreSocketError);
    try {
      upgrade(request, socket, head);
    } catch (error) {
      // No input on any socket may take the agent down: log one line, drop the socket.
      options.log(`dropped a connection: ${messageOf(error)}`);
      socket.destroy();
    }
  });
  const upgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    const from = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const refuseWith = (status: number, reason: string, message: string): void => {
      options.log(`refused coordinator ${from}: ${message}`);
      refuse(socket, status, reason, message);
    };
    if (pathOf(request.url) !== agentPath) return refuseWith(404, 'Not Found', `no such path: coordinators connect at ${agentPath}`);
    const auth = request.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (options.token !== undefined && !sameSecret(given, options.token)) {
      return refuseWith(401, 'Unauthorized', given === '' ? 'no token: give the agent\'s token with --token or SPEAR_TOKEN' : 'wrong token: use the token the agent was started with (--token or SPEAR_TOKEN)');
    }
    const theirs = Number(request.headers['x-spear-wire']);
    if (theirs !== speaks) {
      return refuseWith(409, 'Conflict', `wire version mismatch: the coordinator speaks ${Number.isFinite(theirs) ? theirs : 'none'} (spear ${String(request.headers['x-spear-version'] ?? '?')}), this agent ${speaks} (spear ${spearVersion}): run the same spear version on both`);
    }
    if (busyWith !== undefined) return refuseWith(409, 'Conflict', `busy: coordinator ${busyWith} is running a test on this agent`);
    busyWith = from;
    let upgraded = false;
    // ws answers a bad handshake (e.g. an invalid Sec-WebSocket-Key) itself and never calls back: free the slot when that socket goes.
    socket.once('close', () => {
      if (!upgraded && busyWith === from) busyWith = undefined;
    });
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      upgraded = true;
      pending.upgraded(socket);
      options.log(`coordinator ${from} connected`);
      const link: CoordinatorLink = new WebSocketTransport(webSocket, parseCoordinatorMessage);
      let why = '';
      link.onClose((reason) => {
        why = reason;
      });
      void serveCoordinator(link, { targetPolicy: options.targetPolicy }).finally(() => {
        busyWith = undefined;
        options.log(`coordinator ${from} left (${why}); waiting for the next one`);
      });
    });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use: pick another or stop what listens there'
        : error.code === 'EADDRNOTAVAIL' ? 'no such address on this host: listen on one of its addresses or 0.0.0.0'
        : error.code === 'EACCES' ? 'not allowed: ports below 1024 need privileges'
        : error.message;
      reject(new UsageError(`--listen ${options.host}:${options.port}: ${why} (${error.code ?? 'error'})`));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  if (options.token === undefined && !isLoopback(address.address)) {
    server.close();
    throw new UsageError(`--listen ${options.host}:${options.port}: it resolved to ${address.address}, which is not loopback: an agent off loopback must require a token (add --token SECRET or set SPEAR_TOKEN)`);
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls === undefined ? 'ws' : 'wss'}://${host}:${address.port}`,
    close: () => new Promise((resolve) => {
      pending.close();
      for (const client of sockets.clients) client.terminate();
      server.close(() => resolve());
    }),
  };
}

/**
 * Whether `host` is a loopback address or `localhost` (where running without a
 * token is allowed). Literal addresses only: a name such as "127.evil.example"
 * is not loopback, whatever it starts with; the bound address is checked again
 * after listening.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith('127.');
  if (family === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/** Socket errors after the HTTP layer let go (a reset mid-answer) only close that socket. */
function ignoreSocketError(): void {}

/** The path of a request target, or undefined when it does not parse (`//`, garbage). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://agent').pathname;
  } catch {
    return undefined;
  }
}

/** Connections waiting to authenticate, at most: in all, and from one address (so one stranger cannot lock others out). */
const maxPendingConnections = 256;
const maxPendingPerAddress = 16;
/** A connection must complete its upgrade this soon after it opened. */
const upgradeTimeoutMs = 5000;

/**
 * TCP connections that have not (yet) become a coordinator's WebSocket:
 * capped, and closed when they do not upgrade in time, so idle or slow
 * strangers cannot hold the agent's descriptors (a run needs them).
 *
 * Entries are keyed by the peer's address and port, not by socket object:
 * under TLS, 'connection' gives the raw TCP socket while 'upgrade' gives
 * the TLS socket wrapping it, and both name the same peer.
 */
class PendingConnections {
  readonly #entries = new Map<string, { readonly socket: Socket; readonly timer: NodeJS.Timeout; readonly address: string }>();
  readonly #perAddress = new Map<string, number>();
  readonly #log: (line: string) => void;
  #refusing = false;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  admit(socket: Socket): void {
    const address = socket.remoteAddress;
    // Already gone (reset before we saw it): nothing to hold.
    if (address === undefined) {
      socket.destroy();
      return;
    }
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#entries.size >= maxPendingConnections || fromAddress >= maxPendingPerAddress) {
      if (!this.#refusing) this.#log(`too many connections waiting to authenticate (from ${address}: ${fromAddress}, in all: ${this.#entries.size}): closing new ones until they clear`);
      this.#refusing = true;
      socket.destroy();
      return;
    }
    this.#refusing = false;
    const key = peerOf(socket);
    this.#perAddress.set(address, fromAddress + 1);
    this.#entries.set(key, { socket, timer: setTimeout(() => socket.destroy(), upgradeTimeoutMs), address });
    socket.once('close', () => this.#release(key, socket));
  }

  /** The socket (or the TLS socket over it) became a coordinator's link: no longer a stranger's. */
  upgraded(socket: Socket): void {
    const key = peerOf(socket);
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#release(key, entry.socket);
  }

  close(): void {
    for (const entry of this.#entries.values()) entry.socket.destroy();
  }

  #release(key: string, socket: Socket): void {
    const entry = this.#entries.get(key);
    // A later connection from the same port may hold the key by now.
    if (entry === undefined || entry.socket !== socket) return;
    clearTimeout(entry.timer);
    this.#entries.delete(key);
    const left = (this.#perAddress.get(entry.address) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(entry.address);
    else this.#perAddress.set(entry.address, left);
  }
}

/** "address:port" of the peer; stable for the life of the connection (Node caches it). */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
