import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { ExchangeError } from '../exchange-error.js';
import type { SessionOptions } from '../session.js';
import { readRefusalBody, UpgradeRefused, withoutQuery } from './upgrade-refusal.js';

/** What a link reports; `message` is the hot path. */
export interface LinkHandlers {
  message(data: Buffer, isBinary: boolean): void;
  /** The link closed after it opened; `error` undefined when `close()` asked for it. */
  closed(error: unknown): void;
}

/** Largest message accepted: 16 MiB (ws's default is 100 MiB). */
const maxPayloadBytes = 16 * 1024 * 1024;

/**
 * One `ws` client connection with spear's error codes: errno errors pass
 * through, a refused upgrade is `UPGRADE_<status>` (an `UpgradeRefused` with
 * the start of the response body), a handshake slower than the connect
 * timeout is SPEAR_CONNECT_TIMEOUT, an abnormal close (no close frame)
 * SPEAR_SOCKET_CLOSED, a close frame from the server `WS_<code>`.
 * permessage-deflate is off unless asked for: with ws defaults it costs
 * ~25 KB per connection.
 */
/** The link a socket belongs to: stored on the socket so its listeners can be shared functions. */
const owner = Symbol('spear.link');
type OwnedSocket = WebSocket & { [owner]: WebSocketLink };

interface Pending {
  readonly url: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

export class WebSocketLink {
  #socket: WebSocket | undefined;
  /** Set while the upgrade is in flight; dropped once it settles so nothing of it stays per connection. */
  #pending: Pending | undefined;
  #opened = false;
  #closing = false;
  #lastError: unknown;
  readonly #handlers: LinkHandlers;

  constructor(handlers: LinkHandlers) {
    this.#handlers = handlers;
  }

  get isOpen(): boolean {
    return this.#socket !== undefined && this.#socket.readyState === WebSocket.OPEN;
  }

  /** Connects; resolves on the upgrade, rejects with a coded error. */
  open(url: string, options: SessionOptions, localAddress: string | undefined): Promise<void> {
    this.#closing = false;
    this.#opened = false;
    this.#lastError = undefined;
    const socket = new WebSocket(toWebSocketUrl(url), {
      // Target TLS (tls.insecure, tls.ca, …) first: spear's own settings below win. ws passes them to tls.connect for wss://.
      ...options.tls,
      perMessageDeflate: options.perMessageDeflate,
      maxPayload: maxPayloadBytes,
      skipUTF8Validation: true,
      followRedirects: false,
      ...(localAddress === undefined ? {} : { localAddress }),
      // The agent's target policy resolves (and checks) the host for every connection, not only once per name.
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    }) as OwnedSocket;
    socket[owner] = this;
    this.#socket = socket;
    // Listeners are shared module-level functions (they find their link on the socket):
    // thousands of connections must not each hold a set of closures.
    socket.on('unexpected-response', WebSocketLink.#onUnexpectedResponse);
    socket.on('error', WebSocketLink.#onError);
    socket.on('open', WebSocketLink.#onOpen);
    socket.on('message', WebSocketLink.#onMessage);
    socket.on('close', WebSocketLink.#onClose);
    return new Promise<void>((resolve, reject) => {
      // Messages name the URL without its query, which may carry credentials.
      const where = withoutQuery(url);
      const timer = setTimeout(() => {
        this.#fail(new ExchangeError('SPEAR_CONNECT_TIMEOUT', `WebSocket handshake with ${where} took longer than ${options.connectTimeoutMs}ms`));
      }, options.connectTimeoutMs);
      this.#pending = { url: where, resolve, reject, timer };
    });
  }

  /** Rejects a pending open (once) and drops its socket. */
  #fail(error: unknown): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    this.#socket?.terminate();
    pending.reject(error);
  }

  static #onUnexpectedResponse(this: WebSocket, _request: unknown, response: IncomingMessage): void {
    const link = (this as OwnedSocket)[owner];
    const status = response.statusCode ?? 0;
    // The body often says why (Engine.IO: "Transport unknown"); the connect timeout still bounds the wait for it.
    readRefusalBody(response, (body) => link.#fail(new UpgradeRefused(link.#pending?.url ?? 'the server', status, body)));
  }

  static #onError(this: WebSocket, error: Error): void {
    const link = (this as OwnedSocket)[owner];
    link.#lastError = error;
    link.#fail(error);
  }

  static #onOpen(this: WebSocket): void {
    const link = (this as OwnedSocket)[owner];
    const pending = link.#pending;
    if (pending === undefined) return;
    link.#pending = undefined;
    link.#opened = true;
    clearTimeout(pending.timer);
    pending.resolve();
  }

  static #onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
    const link = (this as OwnedSocket)[owner];
    // After close() this side no longer listens: frames still in flight are not the user's any more.
    if (link.#socket !== this) return;
    link.#handlers.message(data, isBinary);
  }

  static #onClose(this: WebSocket, code: number, reason: Buffer): void {
    const link = (this as OwnedSocket)[owner];
    if (link.#pending !== undefined) {
      link.#fail(new ExchangeError('SPEAR_SOCKET_CLOSED', `${link.#pending.url} closed the connection during the handshake`));
      return;
    }
    if (link.#socket !== this) return;
    link.#socket = undefined;
    // A failed open was reported by its rejection; only an open link can be "closed".
    if (link.#closing || !link.#opened) return;
    link.#handlers.closed(link.#lastError ?? closeError(code, reason));
  }

  send(data: string | Buffer): void {
    this.#socket?.send(data);
  }

  /** Closes with a close frame; `closed` is not reported. */
  close(): void {
    this.#closing = true;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined) return;
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000);
      // A server that never answers the close frame must not hold the descriptor.
      setTimeout(() => socket.terminate(), 2000).unref();
    } else {
      socket.terminate();
    }
  }

  /** Drops the connection at once (a dead peer); reports `closed` with `error`. */
  fail(error: unknown): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#lastError = error;
    socket.terminate();
  }
}

/** No close frame: SPEAR_SOCKET_CLOSED; a close frame: `WS_<code>` (WS_1000 normal, WS_1001 going away, WS_1011 server error, …) with its reason. */
function closeError(code: number, reason: Buffer): ExchangeError {
  if (code === 1006) return new ExchangeError('SPEAR_SOCKET_CLOSED', 'the connection dropped without a close frame');
  const why = reason.length === 0 ? '' : `: ${JSON.stringify(reason.toString('utf8', 0, 123))}`;
  return new ExchangeError(`WS_${code}`, `the server closed the WebSocket with code ${code}${why}`);
}

/** http:// → ws://, https:// → wss://; ws URLs pass through. */
export function toWebSocketUrl(url: string): string {
  if (url.startsWith('http://')) return `ws://${url.slice(7)}`;
  if (url.startsWith('https://')) return `wss://${url.slice(8)}`;
  return url;
}
