import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ExchangeError } from '../exchange-error.js';
import type { Endpoint } from './http-connection.js';
import { OriginPool, type PoolOwner } from './origin-pool.js';
import { StepExchange, type StepOutcome } from './step-exchange.js';
import type { StepRequest } from './step-request.js';

/** How a step client connects and when it gives up. */
export interface StepClientOptions {
  /** Pooled connections per origin at most. */
  readonly connections: number;
  /** The target's TLS settings (`targetTlsOptions`), for every https origin. */
  readonly tlsOptions: ConnectionOptions;
  readonly connectTimeoutMs: number;
  /** A response (head and body) must be complete this long after its request reached a connected socket. */
  readonly requestTimeoutMs: number;
  /** The agent's target policy lookup (--allow-target), checked for every connection; undefined: the system's resolver. */
  readonly lookup?: LookupFunction | undefined;
  /** Bytes no request asked for (`read:SPEAR_UNSOLICITED_RESPONSE`): counted as an error of their own. */
  readonly connectionFailed: (error: unknown) => void;
}

/**
 * spear's HTTP/1.1 client for flow `http` steps (HTTP journeys): one pool
 * of keep-alive connections per origin a step names (`OriginPool`), each
 * connection spear's own (`HttpConnection`, the request load's), so a step
 * fails with the same codes as request load. A request is written in the
 * call that hands it over when a connection is free, and the next step of
 * a user goes out in the loop turn the previous response ended in (undici
 * waited one turn before reusing an idle socket). Timeouts are one sweep
 * per client, not a timer per request. Redirects are not followed (a 3xx
 * is the step's status), as undici's `dispatch` did not follow them.
 * Single-threaded; `exchange` allocates one small object and a promise.
 */
export class StepClient implements PoolOwner {
  readonly #options: StepClientOptions;
  readonly #pools = new Map<string, OriginPool>();
  readonly #sweep: NodeJS.Timeout;
  readonly #timeout: ExchangeError;
  #open = 0;
  #closed = false;

  constructor(options: StepClientOptions) {
    this.#options = options;
    this.#timeout = new ExchangeError('SPEAR_REQUEST_TIMEOUT', `no complete response within ${options.requestTimeoutMs}ms`);
    this.#sweep = setInterval(() => this.#expire(), Math.min(1000, Math.max(20, options.requestTimeoutMs / 10)));
    this.#sweep.unref();
  }

  /**
   * Sends `request` to `url`'s origin and reads the whole response (its
   * body as text when `keepText`). Rejects with a coded error: the request
   * load's codes (connect errnos, SPEAR_CONNECT_TIMEOUT, read:
   * SPEAR_SOCKET_CLOSED, ECONNRESET, HPE_*, SPEAR_REQUEST_TIMEOUT), or
   * SPEAR_INVALID_URL for a scheme other than http and https, or
   * SPEAR_CLOSED once the client closed.
   */
  exchange(url: URL, request: StepRequest, keepText: boolean): Promise<StepOutcome> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new ExchangeError('SPEAR_CLOSED', 'the run ended before the request was sent'));
        return;
      }
      const pool = this.#pools.get(url.origin) ?? this.#pool(url);
      if (pool === undefined) {
        reject(new ExchangeError('SPEAR_INVALID_URL', `${url.href}: spear sends flow http steps over http: and https: only`));
        return;
      }
      pool.exchange(new StepExchange(request, keepText, resolve, reject));
    });
  }

  /** Connections open now (a gauge; constant time). */
  openConnections(): number {
    return this.#open;
  }

  opened(): void {
    this.#open += 1;
  }

  closed(): void {
    this.#open -= 1;
  }

  connectionFailed(error: unknown): void {
    this.#options.connectionFailed(error);
  }

  /** Closes every connection; exchanges in flight or waiting fail with SPEAR_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    const closing = new ExchangeError('SPEAR_CLOSED', 'the run ended before the response arrived');
    for (const pool of this.#pools.values()) pool.abort(closing);
    // Sockets close on the next tick; let their close events run before the caller goes on.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** A new pool for `url`'s origin, or undefined when its scheme is not HTTP. */
  #pool(url: URL): OriginPool | undefined {
    const tls = url.protocol === 'https:';
    if (!tls && url.protocol !== 'http:') return undefined;
    const options = this.#options;
    const endpoint: Endpoint = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
      tls,
      tlsOptions: tls ? options.tlsOptions : {},
      connectTimeoutMs: options.connectTimeoutMs,
      lookup: options.lookup,
    };
    const pool = new OriginPool(endpoint, options.connections, options.requestTimeoutMs, this);
    this.#pools.set(url.origin, pool);
    return pool;
  }

  #expire(): void {
    const now = performance.now();
    for (const pool of this.#pools.values()) pool.expire(now, this.#timeout);
  }
}
