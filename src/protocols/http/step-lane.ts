import { performance } from 'node:perf_hooks';
import { errorCodeOf } from '../../metrics/error-kind.js';
import { ExchangeError } from '../exchange-error.js';
import { HttpConnection, type ConnectionGauge, type Endpoint, type InFlight } from './http-connection.js';
import type { BodySink } from './response-parser.js';
import type { StepExchange } from './step-exchange.js';
import type { StepRequest } from './step-request.js';

/** What a lane tells the pool it belongs to. */
export interface LaneOwner {
  /** The lane finished its exchange and is free: the owner gives it the next one or keeps it idle. */
  release(lane: StepLane): void;
  /** A socket connected (for the open-connections gauge). */
  opened(): void;
  /** A socket closed. */
  closed(): void;
  /** Bytes no request asked for: an error of the connection, counted on its own. */
  connectionFailed(error: unknown): void;
}

/** The placeholder request of a lane that carries nothing yet. */
const noRequest: StepRequest = { bytes: Buffer.alloc(0), bodyless: false, idempotent: false };

/** A request that could not be resent met a kept connection closed before any answer. */
const keptConnectionClosed = new ExchangeError('SPEAR_KEPT_CONNECTION_CLOSED', 'a kept-alive connection closed before any answer to a request spear does not resend');

/** A kept connection found closed before any answer: the codes a resend may follow. */
const staleCodes = new Set(['SPEAR_SOCKET_CLOSED', 'ECONNRESET', 'EPIPE']);

/**
 * One pooled connection of a flow `http` pool: an `HttpConnection` carrying
 * one exchange at a time, and the exchange's state (its clock, deadline and
 * body). The connection's failures, framing and reconnects are the request
 * load's own (same codes, same unsolicited-bytes rule); the lane adds three
 * things journeys need:
 *
 * - bodies: the connection's parser hands it each body piece (a `BodySink`),
 *   counted, and kept only when the step reads the body;
 * - the clock starts when the request reaches a connected socket: a request
 *   written while its socket still connects has its latency (and deadline)
 *   start at the connect, the wait being queue time, as with undici before;
 * - one resend of an idempotent request written to a kept connection the
 *   server had already closed (its FIN or reset crossed the request: an
 *   idle timeout racing the next step), when no byte of an answer came.
 *   A POST is never resent (the server may have acted on it): it fails as
 *   request load's would, `read:SPEAR_SOCKET_CLOSED` or the errno.
 *
 * Completion runs inside the connection's read: the lane is released (and
 * may carry the next queued exchange) before the step's promise resolves,
 * so a user's next step can be written in the same loop turn.
 */
export class StepLane implements InFlight, ConnectionGauge, BodySink {
  intendedAt = 0;
  sentAt = 0;
  readonly requestIndex = -1;
  request: StepRequest = noRequest;
  readonly #connection: HttpConnection;
  readonly #owner: LaneOwner;
  readonly #timeoutMs: number;
  #exchange: StepExchange | undefined;
  /** performance.now() past which the exchange times out; Infinity until its socket connects. */
  #deadline = Number.POSITIVE_INFINITY;
  #bodyBytes = 0;
  #chunks: Buffer[] | undefined;
  #connected = false;
  /** Responses the current socket delivered: above 0, the socket is a kept one. */
  #served = 0;
  /** The exchange was written to a kept socket (one that answered before). */
  #onKeptSocket = false;

  constructor(endpoint: Endpoint, owner: LaneOwner, timeoutMs: number) {
    this.#owner = owner;
    this.#timeoutMs = timeoutMs;
    this.#connection = new HttpConnection(endpoint, {
      completed: (_slot, status, _bytes, error) => this.#completed(status, error),
      connectionFailed: (error) => owner.connectionFailed(error),
    }, this, this);
  }

  /** Writes `exchange`'s request; the lane must be free. */
  carry(exchange: StepExchange): void {
    this.#exchange = exchange;
    this.request = exchange.request;
    this.#write(exchange);
  }

  /** The Slot contract: sends the current request again. The pool uses `carry`. */
  send(): void {
    this.#connection.send(this);
  }

  /** Fails the exchange (closing the socket) when it is past its deadline at `now`. */
  expire(now: number, error: Error): void {
    if (this.#exchange !== undefined && this.#deadline < now) this.#connection.abort(error);
  }

  /** Closes the socket; an exchange in flight fails with `error`. */
  abort(error: Error): void {
    this.#connection.abort(error);
  }

  opened(): void {
    this.#connected = true;
    this.#served = 0;
    if (this.#exchange !== undefined) {
      // The request was written before the connect completed: the server has it from now.
      this.sentAt = performance.now();
      this.#deadline = this.sentAt + this.#timeoutMs;
    }
    this.#owner.opened();
  }

  closed(): void {
    this.#connected = false;
    this.#owner.closed();
  }

  body(data: Buffer, start: number, end: number): void {
    this.#bodyBytes += end - start;
    // The parser may hand a slice of a buffer it reuses: keep a copy.
    if (this.#chunks !== undefined && end > start) this.#chunks.push(Buffer.from(data.subarray(start, end)));
  }

  #write(exchange: StepExchange): void {
    this.#bodyBytes = 0;
    this.#chunks = exchange.keepText ? [] : undefined;
    this.sentAt = performance.now();
    this.#onKeptSocket = this.#connected && this.#served > 0;
    if (this.#connected) {
      this.#deadline = this.sentAt + this.#timeoutMs;
    } else {
      exchange.waited = true;
      this.#deadline = Number.POSITIVE_INFINITY;
    }
    this.#connection.send(this);
  }

  #completed(status: number, error: unknown): void {
    const exchange = this.#exchange;
    if (exchange === undefined) return;
    if (status > 0) {
      this.#served += 1;
      const now = performance.now();
      const outcome = {
        status,
        bytes: this.#bodyBytes,
        text: this.#chunks === undefined ? undefined : Buffer.concat(this.#chunks).toString('utf8'),
        latencyUs: Math.round((now - this.sentAt) * 1000),
        endedAt: now,
        queuedUs: exchange.waited ? Math.round((this.sentAt - exchange.createdAt) * 1000) : -1,
      };
      this.#finish();
      exchange.resolve(outcome);
      return;
    }
    const stale = this.#closedUnanswered(exchange, error);
    if (stale && exchange.request.idempotent) {
      exchange.resent = true;
      exchange.waited = true;
      // The socket is gone: this goes to a fresh connection.
      this.#write(exchange);
      return;
    }
    this.#finish();
    // Not resendable (a POST): whether the server dropped it or closed the idle connection as spear
    // reused it (its keep-alive timeout, or a close a busy agent read late) cannot be told: say so.
    exchange.reject(stale ? keptConnectionClosed : error);
  }

  /** A kept socket the server closed before answering anything of a request not resent yet. */
  #closedUnanswered(exchange: StepExchange, error: unknown): boolean {
    return this.#onKeptSocket && !exchange.resent && !this.#connection.closedMidResponse && staleCodes.has(errorCodeOf(error));
  }

  #finish(): void {
    this.#exchange = undefined;
    this.request = noRequest;
    this.#chunks = undefined;
    this.#deadline = Number.POSITIVE_INFINITY;
    this.#owner.release(this);
  }
}
