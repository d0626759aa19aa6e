import { connect as connectTcp, type LookupFunction, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { ExchangeError } from '../exchange-error.js';
import type { ExchangeListener, Slot } from '../protocol.js';
import type { PreparedRequest } from './request-bytes.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';

/** Where and how to connect; shared by every connection of a pool. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly connectTimeoutMs: number;
  /**
   * Resolves the host for every connection (undefined: the system's
   * resolver). An agent's target policy passes its own, which fails the
   * connection when the name now points somewhere not allowed.
   */
  readonly lookup?: LookupFunction | undefined;
}

/** Counts connections opening and closing, for the pool's gauge. */
export interface ConnectionGauge {
  opened(): void;
  closed(): void;
}

/** A slot waiting for its response on this connection. */
export interface InFlight extends Slot {
  readonly request: PreparedRequest;
}

/**
 * One keep-alive HTTP/1.1 connection: writes prepared request bytes, parses
 * responses in order and hands each to the listener with the slot it
 * answers. Opens its socket on the first send and again after any close, so
 * a refused or reset connection is retried by the next send (as wrk does).
 *
 * Hot path (`send`, `response`): one socket write per request and no
 * allocation beyond what the socket itself does.
 */
export class HttpConnection implements ResponseSink {
  readonly #endpoint: Endpoint;
  readonly #listener: ExchangeListener;
  readonly #gauge: ConnectionGauge;
  readonly #parser = new ResponseParser(this);
  /** In order of sending; with pipelining 1 it holds at most one slot. */
  readonly #inFlight: InFlight[] = [];
  #socket: Socket | undefined;
  #connected = false;
  #error: Error | undefined;
  #connectTimer: NodeJS.Timeout | undefined;

  constructor(endpoint: Endpoint, listener: ExchangeListener, gauge: ConnectionGauge) {
    this.#endpoint = endpoint;
    this.#listener = listener;
    this.#gauge = gauge;
  }

  /** Writes the slot's request; its completion reaches the listener. */
  send(slot: InFlight): void {
    const socket = this.#socket ?? this.#open();
    this.#inFlight.push(slot);
    socket.write(slot.request.bytes);
  }

  /** The oldest unanswered exchange's send time, or undefined when idle. */
  oldestSentAt(): number | undefined {
    return this.#inFlight[0]?.sentAt;
  }

  /** Closes the socket; every in-flight exchange fails with `error`. */
  abort(error: Error): void {
    this.#socket?.destroy(error);
  }

  nextIsBodyless(): boolean {
    return this.#inFlight[0]?.request.bodyless === true;
  }

  response(status: number, bytes: number): void {
    const slot = this.#inFlight.shift();
    // Subtleness ahead: the listener may send the slot's next request from inside this call. When the
    // server announced it closes after this response, detach the socket first, so that request goes to a
    // fresh connection instead of the one being closed.
    const orphans = this.#parser.closeAfter && this.#socket !== undefined ? this.#retire(this.#socket) : undefined;
    if (slot !== undefined) this.#listener.completed(slot, status, bytes, undefined);
    if (orphans !== undefined) this.#fail(orphans, new ExchangeError('SPEAR_SOCKET_CLOSED', 'the server closed the connection before responding'));
  }

  #open(): Socket {
    const { host, port, tls, connectTimeoutMs, lookup } = this.#endpoint;
    this.#parser.reset();
    const socket = tls
      ? connectTls({ host, port, lookup, servername: isIp(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : connectTcp({ host, port, lookup });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#error = undefined;
    this.#connectTimer = setTimeout(() => {
      socket.destroy(new ExchangeError('SPEAR_CONNECT_TIMEOUT', `connect to ${host}:${port} timed out after ${connectTimeoutMs}ms`));
    }, connectTimeoutMs);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(this.#connectTimer);
      this.#connected = true;
      this.#gauge.opened();
    });
    socket.on('data', (chunk: Buffer) => this.#read(socket, chunk));
    socket.on('error', (error: Error) => {
      if (socket === this.#socket) this.#error ??= error;
    });
    socket.once('close', () => this.#closed(socket));
    return socket;
  }

  #read(socket: Socket, chunk: Buffer): void {
    if (socket !== this.#socket) return;
    let keep: boolean;
    try {
      keep = this.#parser.execute(chunk);
    } catch (error) {
      socket.destroy(error as Error);
      return;
    }
    if (!keep) socket.destroy();
  }

  #closed(socket: Socket): void {
    if (this.#socket !== socket) return; // retired earlier: already accounted for
    this.#parser.finish();
    const failed = this.#retire(socket);
    this.#fail(failed, this.#error ?? new ExchangeError('SPEAR_SOCKET_CLOSED', 'the server closed the connection before responding'));
  }

  /** Detaches the socket (closing it) and returns the exchanges still waiting on it. */
  #retire(socket: Socket): InFlight[] {
    clearTimeout(this.#connectTimer);
    this.#socket = undefined;
    if (this.#connected) this.#gauge.closed();
    this.#connected = false;
    socket.destroy();
    return this.#inFlight.splice(0, this.#inFlight.length);
  }

  /** Fails exchanges; slots the listener sends again go to a fresh socket. */
  #fail(slots: readonly InFlight[], error: Error): void {
    for (const slot of slots) this.#listener.completed(slot, 0, 0, error);
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
