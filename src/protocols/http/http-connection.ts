import { connect as connectTcp, type LookupFunction, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { ExchangeError } from '../exchange-error.js';
import type { ExchangeListener, Slot } from '../protocol.js';
import type { PreparedRequest } from './request-bytes.js';
import { connectBackoffFirstMs, connectBackoffMaxMs } from './http-limits.js';
import { ResponseParser, type BodySink, type ResponseSink } from './response-parser.js';

/** Where and how to connect; shared by every connection of a pool. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The target's TLS settings (`targetTlsOptions`: CA, client certificate, insecure, servername), built once per pool. */
  readonly tlsOptions?: ConnectionOptions | undefined;
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
 * a refused or reset connection is retried by the next send (as wrk does),
 * after a backoff that grows while connects keep failing.
 *
 * Every send ends exactly once: a response, or an error. Bytes no request
 * asked for (a second response, garbage after a body) are an error of the
 * connection (`read:SPEAR_UNSOLICITED_RESPONSE`), never of the next
 * request, and close it. A body framed by the close counts only when the
 * close was clean.
 *
 * Hot path (`send`, `response`): one socket write per request and no
 * allocation beyond what the socket itself does.
 */
export class HttpConnection implements ResponseSink {
  readonly #endpoint: Endpoint;
  readonly #listener: ExchangeListener;
  readonly #gauge: ConnectionGauge;
  readonly #parser: ResponseParser;
  /** In order of sending; with pipelining 1 it holds at most one slot. */
  readonly #inFlight: InFlight[] = [];
  #socket: Socket | undefined;
  #connected = false;
  #error: Error | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  /** Connects failed in a row; the next waits `#backoffMs()` after the last. */
  #failedConnects = 0;
  #retryAt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closedMidResponse = false;

  /** `bodySink`: where response bodies go (flow steps); request load passes none and its parser copies nothing. */
  constructor(endpoint: Endpoint, listener: ExchangeListener, gauge: ConnectionGauge, bodySink?: BodySink) {
    this.#endpoint = endpoint;
    this.#listener = listener;
    this.#gauge = gauge;
    this.#parser = new ResponseParser(this, bodySink);
  }

  /**
   * Whether the socket's last close (a FIN or an error) came after part of a
   * response had arrived. Read from `completed` while it fails exchanges for
   * that close: a caller may resend a request the server never began to
   * answer (a keep-alive connection it closed while the request was on its
   * way), never one it was answering.
   */
  get closedMidResponse(): boolean {
    return this.#closedMidResponse;
  }

  /** Writes the slot's request; its completion reaches the listener. */
  send(slot: InFlight): void {
    this.#inFlight.push(slot);
    if (this.#socket !== undefined) {
      this.#socket.write(slot.request.bytes);
      return;
    }
    const wait = this.#retryAt - performance.now();
    if (wait <= 0) this.#open();
    else this.#retryTimer ??= setTimeout(this.#openAfterBackoff, wait);
  }

  /** The oldest unanswered exchange's send time, or undefined when idle. */
  oldestSentAt(): number | undefined {
    return this.#inFlight[0]?.sentAt;
  }

  /** Closes the socket; every in-flight exchange (or one waiting out a backoff) fails with `error`. */
  abort(error: Error): void {
    if (this.#socket !== undefined) {
      this.#socket.destroy(error);
      return;
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#fail(this.#inFlight.splice(0, this.#inFlight.length), error);
  }

  nextIsBodyless(): boolean {
    return this.#inFlight[0]?.request.bodyless === true;
  }

  response(status: number, bytes: number, more: boolean): boolean {
    const slot = this.#inFlight.shift();
    const socket = this.#socket;
    if (slot === undefined || socket === undefined) {
      if (socket !== undefined) this.#unsolicited(socket);
      return false;
    }
    // Bytes after this response with no request left to answer cannot be the next request's response.
    const unsolicited = more && this.#inFlight.length === 0;
    // Subtleness ahead: the listener may send the slot's next request from inside this call. When the
    // connection ends with this response, detach the socket first, so that request goes to a fresh
    // connection instead of the one being closed.
    const ending = this.#parser.closeAfter || unsolicited;
    const orphans = ending ? this.#retire(socket) : undefined;
    this.#listener.completed(slot, status, bytes, undefined);
    if (unsolicited) this.#listener.connectionFailed(unsolicitedError());
    if (orphans !== undefined) this.#fail(orphans, closedError(false));
    return !ending;
  }

  readonly #openAfterBackoff = (): void => {
    this.#retryTimer = undefined;
    if (this.#socket !== undefined || this.#inFlight.length === 0) return;
    // The backoff was spear's wait, not the server's time: the exchanges start now.
    const now = performance.now();
    for (const slot of this.#inFlight) slot.sentAt = now;
    this.#open();
  };

  #open(): Socket {
    const { host, port, tls, tlsOptions, connectTimeoutMs, lookup } = this.#endpoint;
    this.#parser.reset();
    const socket = tls
      ? connectTls({ host, port, lookup, servername: isIp(host) ? undefined : host, ALPNProtocols: ['http/1.1'], ...tlsOptions })
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
      this.#failedConnects = 0;
      this.#gauge.opened();
    });
    socket.on('data', (chunk: Buffer) => this.#read(socket, chunk));
    socket.on('error', (error: Error) => {
      if (socket === this.#socket) this.#error ??= error;
    });
    socket.once('close', () => this.#closed(socket));
    for (const slot of this.#inFlight) socket.write(slot.request.bytes);
    return socket;
  }

  #read(socket: Socket, chunk: Buffer): void {
    if (socket !== this.#socket) return;
    if (this.#inFlight.length === 0 && !this.#parser.inResponse) {
      this.#unsolicited(socket);
      return;
    }
    try {
      this.#parser.execute(chunk);
    } catch (error) {
      socket.destroy(error as Error);
    }
  }

  /** Bytes arrived that no request asked for: an error of the connection, which closes. */
  #unsolicited(socket: Socket): void {
    this.#fail(this.#retire(socket), closedError(false));
    this.#listener.connectionFailed(unsolicitedError());
  }

  #closed(socket: Socket): void {
    if (this.#socket !== socket) return; // retired earlier: already accounted for
    const error = this.#error;
    const midResponse = this.#parser.inResponse;
    this.#closedMidResponse = midResponse;
    const framedByClose = error === undefined ? this.#parser.finishAtClose() : -1;
    const status = this.#parser.status;
    if (!this.#connected) this.#connectFailed();
    const waiting = this.#retire(socket);
    let failed: readonly InFlight[] = waiting;
    if (framedByClose >= 0 && waiting.length > 0) {
      failed = waiting.slice(1);
      this.#listener.completed(waiting[0]!, status, framedByClose, undefined);
    }
    this.#fail(failed, error ?? closedError(midResponse && framedByClose < 0));
  }

  /** A connect failed: the next one waits, longer after each failure in a row (with jitter, so connections spread). */
  #connectFailed(): void {
    this.#failedConnects += 1;
    const ceiling = Math.min(connectBackoffMaxMs, connectBackoffFirstMs * 2 ** Math.min(this.#failedConnects - 1, 16));
    this.#retryAt = performance.now() + ceiling * (0.5 + Math.random() / 2);
  }

  /** Detaches the socket (closing it) and returns the exchanges still waiting on it. */
  #retire(socket: Socket): InFlight[] {
    clearTimeout(this.#connectTimer);
    this.#socket = undefined;
    if (this.#connected) this.#gauge.closed();
    this.#connected = false;
    this.#parser.reset();
    socket.destroy();
    return this.#inFlight.splice(0, this.#inFlight.length);
  }

  /** Fails exchanges; slots the listener sends again go to a fresh socket. */
  #fail(slots: readonly InFlight[], error: Error): void {
    for (const slot of slots) this.#listener.completed(slot, 0, 0, error);
  }
}

function closedError(midResponse: boolean): ExchangeError {
  return new ExchangeError('SPEAR_SOCKET_CLOSED', midResponse ? 'the server closed the connection in the middle of a response' : 'the server closed the connection before responding');
}

function unsolicitedError(): ExchangeError {
  return new ExchangeError('SPEAR_UNSOLICITED_RESPONSE', 'the server sent bytes no request asked for (a second response, or bytes after a body): the connection was closed');
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
