import WebSocket from 'ws';
import { ExchangeError } from '../exchange-error.js';
import type { SessionOptions } from '../session.js';

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
 * through, a refused upgrade is `UPGRADE_<status>`, a handshake slower than
 * the connect timeout is SPEAR_CONNECT_TIMEOUT, an abnormal close (no close
 * frame) SPEAR_SOCKET_CLOSED, a close frame from the server SPEAR_SERVER_CLOSED.
 * permessage-deflate is off unless asked for: with ws defaults it costs
 * ~25 KB per connection.
 */
export class WebSocketLink {
  #socket: WebSocket | undefined;
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
    this.#lastError = undefined;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.terminate();
        reject(error);
      };
      const socket = new WebSocket(toWebSocketUrl(url), {
        perMessageDeflate: options.perMessageDeflate,
        maxPayload: maxPayloadBytes,
        skipUTF8Validation: true,
        followRedirects: false,
        ...(localAddress === undefined ? {} : { localAddress }),
      });
      this.#socket = socket;
      const timer = setTimeout(() => {
        fail(new ExchangeError('SPEAR_CONNECT_TIMEOUT', `WebSocket handshake with ${url} took longer than ${options.connectTimeoutMs}ms`));
      }, options.connectTimeoutMs);
      socket.on('unexpected-response', (_request, response) => {
        fail(new ExchangeError(`UPGRADE_${response.statusCode ?? 0}`, `${url} answered the WebSocket upgrade with HTTP ${response.statusCode ?? 0}`));
      });
      socket.on('error', (error) => {
        this.#lastError = error;
        fail(error);
      });
      let opened = false;
      socket.on('open', () => {
        if (settled) return;
        settled = true;
        opened = true;
        clearTimeout(timer);
        resolve();
      });
      socket.on('message', (data: Buffer, isBinary: boolean) => this.#handlers.message(data, isBinary));
      socket.on('close', (code: number) => {
        if (!settled) {
          fail(new ExchangeError('SPEAR_SOCKET_CLOSED', `${url} closed the connection during the handshake`));
          return;
        }
        if (this.#socket !== socket) return;
        this.#socket = undefined;
        // A failed open was reported by its rejection; only an open link can be "closed".
        if (this.#closing || !opened) return;
        this.#handlers.closed(this.#lastError ?? closeError(code));
      });
    });
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

function closeError(code: number): ExchangeError {
  if (code === 1006) return new ExchangeError('SPEAR_SOCKET_CLOSED', 'the connection dropped without a close frame');
  return new ExchangeError('SPEAR_SERVER_CLOSED', `the server closed the WebSocket (code ${code})`);
}

/** http:// → ws://, https:// → wss://; ws URLs pass through. */
export function toWebSocketUrl(url: string): string {
  if (url.startsWith('http://')) return `ws://${url.slice(7)}`;
  if (url.startsWith('https://')) return `wss://${url.slice(8)}`;
  return url;
}
