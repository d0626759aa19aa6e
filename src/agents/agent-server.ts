import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { UsageError } from '../errors.js';
import { spearVersion } from '../version.js';
import { wireVersion } from '../wire/messages.js';
import { parseCoordinatorMessage } from '../wire/parse.js';
import { WebSocketTransport } from '../wire/web-socket-transport.js';
import { serveCoordinator, type CoordinatorLink } from './agent.js';
import type { TargetPolicy } from './target-policy.js';

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
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  const speaks = options.wireVersion ?? wireVersion;
  let busyWith: string | undefined;
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const from = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const refuseWith = (status: number, reason: string, message: string): void => {
      options.log(`refused coordinator ${from}: ${message}`);
      refuse(socket, status, reason, message);
    };
    if (new URL(request.url ?? '/', 'http://agent').pathname !== agentPath) return refuseWith(404, 'Not Found', `no such path: coordinators connect at ${agentPath}`);
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
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      options.log(`coordinator ${from} connected`);
      const link: CoordinatorLink = new WebSocketTransport(webSocket, parseCoordinatorMessage);
      void serveCoordinator(link, { targetPolicy: options.targetPolicy }).finally(() => {
        busyWith = undefined;
        options.log(`coordinator ${from} left; waiting for the next one`);
      });
    });
  });
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
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls === undefined ? 'ws' : 'wss'}://${host}:${address.port}`,
    close: () => new Promise((resolve) => {
      for (const client of sockets.clients) client.terminate();
      server.close(() => resolve());
    }),
  };
}

/** Whether `host` is a loopback address (where running without a token is allowed). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
