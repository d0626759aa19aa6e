import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { messageOf, UsageError } from '../errors.js';
import { spearVersion } from '../version.js';
import { wireVersion } from './messages.js';
import { PendingConnections } from './pending-connections.js';

/** The path every spear peer connects at, whichever side listens; anything else is refused. */
export const peerPath = '/spear';

/** Who is who on a listening end: names in refusals, logs and the plain-HTTP answer. */
export type PeerRole = 'agent' | 'coordinator';

export interface PeerServerOptions {
  /** This side: an agent (`spear agent --listen`) or a coordinator (`spear run --listen`). */
  readonly self: PeerRole;
  readonly host: string;
  readonly port: number;
  /** Shared secret every peer must present (`authorization: Bearer`); undefined only on loopback. */
  readonly token: string | undefined;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** The wire version peers must speak (tests pretend to speak another). */
  readonly wireVersion?: number | undefined;
  /** Largest message a peer may send. */
  readonly maxPayload: number;
  /**
   * An authenticated peer of this wire version asks to connect: a refusal
   * (sent as HTTP 409, e.g. "busy: ..."), or undefined to let it in. Synchronous.
   */
  readonly admit: (from: string) => string | undefined;
  /** An admitted peer's upgrade failed (ws answered a bad handshake itself): whatever admit reserved is free again. */
  readonly abandoned?: ((from: string) => void) | undefined;
  /** An admitted peer's WebSocket is open. `from` is its "address:port" (peerAddress). Must not throw. */
  readonly connected: (socket: WebSocket, from: string) => void;
  /** One line per event worth a log (a refusal, a dropped connection). */
  readonly log: (line: string) => void;
  /** Told of every refusal (`from` is "address:port") instead of the log, when given: its owner decides what to say. */
  readonly refused?: ((from: string, message: string) => void) | undefined;
}

export interface PeerServer {
  /** ws://HOST:PORT or wss://HOST:PORT, the port resolved when 0 was asked. */
  readonly url: string;
  /** Stops listening, drops connections that have not upgraded and terminates every peer's WebSocket. */
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

/** The headers a dialing peer sends: its token (when it has one), wire version and spear version. */
export function peerHeaders(token: string | undefined, speaks: number = wireVersion): Record<string, string> {
  return { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'x-spear-wire': String(speaks), 'x-spear-version': spearVersion };
}

/**
 * Listens for spear peers over WebSocket at `peerPath`: the agent side of
 * `spear agent --listen` and the coordinator side of `spear run --listen`.
 * A peer must present the token and speak this wire version, then pass
 * `admit`; every refusal is an HTTP answer with a one-line reason (which
 * the peer shows its user) and a log line here. Connections that have not
 * upgraded are capped and timed out (PendingConnections).
 */
export async function listenForPeers(options: PeerServerOptions): Promise<PeerServer> {
  const peer: PeerRole = options.self === 'agent' ? 'coordinator' : 'agent';
  const answerPlainRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end(`spear ${options.self} ${spearVersion}: ${peer}s connect over WebSocket at ${peerPath}\n`);
  };
  const server = options.tls === undefined ? createServer(answerPlainRequest) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, answerPlainRequest);
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
  const speaks = options.wireVersion ?? wireVersion;
  const pending = new PendingConnections(options.log);
  // Raw TCP sockets (under TLS too: the cap and the timer must cover slow handshakes).
  server.on('connection', (socket: Socket) => pending.admit(socket));
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    // Subtleness ahead: node:http removes its own error listener from a socket it hands to 'upgrade'.
    // A peer resetting while we answer would then raise an unhandled 'error' and take the process down.
    socket.on('error', ignoreSocketError);
    try {
      upgrade(request, socket, head);
    } catch (error) {
      // No input on any socket may take the listener down: log one line, drop the socket.
      options.log(`dropped a connection: ${messageOf(error)}`);
      socket.destroy();
    }
  });
  const upgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    const from = peerAddress(request.socket.remoteAddress, request.socket.remotePort);
    const refuseWith = (status: number, reason: string, message: string): void => {
      if (options.refused === undefined) options.log(`refused ${peer} ${from}: ${message}`);
      else options.refused(from, message);
      refuse(socket, status, reason, message);
    };
    if (pathOf(request.url) !== peerPath) return refuseWith(404, 'Not Found', `no such path: ${peer}s connect at ${peerPath}`);
    const auth = request.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (options.token !== undefined && !sameSecret(given, options.token)) {
      return refuseWith(401, 'Unauthorized', given === '' ? `no token: give the ${options.self}'s token with --token or SPEAR_TOKEN` : `wrong token: use the token the ${options.self} was started with (--token or SPEAR_TOKEN)`);
    }
    const theirs = Number(request.headers['x-spear-wire']);
    if (theirs !== speaks) {
      return refuseWith(409, 'Conflict', `wire version mismatch: the ${peer} speaks ${Number.isFinite(theirs) ? theirs : 'none'} (spear ${String(request.headers['x-spear-version'] ?? '?')}), this ${options.self} ${speaks} (spear ${spearVersion}): run the same spear version on both`);
    }
    const refusal = options.admit(from);
    if (refusal !== undefined) return refuseWith(409, 'Conflict', refusal);
    let upgraded = false;
    // ws answers a bad handshake (e.g. an invalid Sec-WebSocket-Key) itself and never calls back: free what admit reserved when that socket goes.
    socket.once('close', () => {
      if (!upgraded) options.abandoned?.(from);
    });
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      upgraded = true;
      pending.upgraded(socket);
      options.connected(webSocket, from);
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
    throw new UsageError(`--listen ${options.host}:${options.port}: it resolved to ${address.address}, which is not loopback: ${offLoopback(options.self)} (add --token SECRET or set SPEAR_TOKEN)`);
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

/** The rule for listening without a token, as a clause: "an agent off loopback must require a token". */
export function offLoopback(self: PeerRole): string {
  return `${self === 'agent' ? 'an agent' : 'a coordinator'} off loopback must require a token`;
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

/**
 * A peer's "address:port" as a person reads it: an IPv4 peer of a
 * dual-stack listener without its "::ffff:" prefix, IPv6 in brackets.
 */
export function peerAddress(address: string | undefined, port: number | undefined): string {
  const bare = (address ?? '?').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return `${bare.includes(':') ? `[${bare}]` : bare}:${port ?? '?'}`;
}

/** Socket errors after the HTTP layer let go (a reset mid-answer) only close that socket. */
function ignoreSocketError(): void {}

/** The path of a request target, or undefined when it does not parse (`//`, garbage). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://peer').pathname;
  } catch {
    return undefined;
  }
}
