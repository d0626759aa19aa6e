import type { LookupFunction } from 'node:net';
import type { HttpPlan } from '../../scenarios/plan.js';
import type { ClientPool, ExchangeListener, Protocol } from '../protocol.js';
import { ExchangeError } from '../exchange-error.js';
import { targetTlsOptions } from '../target-tls.js';
import { HttpConnection, type ConnectionGauge, type Endpoint, type InFlight } from './http-connection.js';
import { prepareRequest, type PreparedRequest } from './request-bytes.js';

/**
 * One lane of one connection. It rotates through the scenario's requests;
 * the same object carries every exchange on the lane, so nothing is
 * allocated per request.
 */
class HttpSlot implements InFlight {
  intendedAt = 0;
  sentAt = 0;
  request: PreparedRequest;
  requestIndex: number;
  readonly #connection: HttpConnection;
  readonly #requests: readonly PreparedRequest[];
  #next: number;

  constructor(connection: HttpConnection, requests: readonly PreparedRequest[], firstRequest: number) {
    this.#connection = connection;
    this.#requests = requests;
    this.#next = firstRequest % requests.length;
    this.request = requests[this.#next]!;
    this.requestIndex = this.#next;
  }

  send(): void {
    this.request = this.#requests[this.#next]!;
    this.requestIndex = this.#next;
    this.#next = this.#next + 1 === this.#requests.length ? 0 : this.#next + 1;
    this.#connection.send(this);
  }
}

/**
 * HTTP/1.1 load over spear's own keep-alive connections: one socket per
 * planned connection (exactly what the plan says, as wrk), requests written
 * as prepared bytes, responses framed by a minimal parser.
 *
 * Subtleness ahead: this does not use undici on purpose. undici is a general
 * client: per request it builds a Request object, re-serializes headers,
 * re-arms timers and waits an extra event-loop turn before reusing an idle
 * socket (a safety check for misbehaving servers). Measured on 2 cores
 * against nginx, that capped one agent at ~0.55× wrk with 100 connections and
 * ~0.35× with 1,000, while a bare socket loop reached ~0.95× (see
 * bench/http-vs-peers.sh). Request timeouts are one sweep per pool, not a
 * timer per request.
 */
class HttpPool implements ClientPool, ConnectionGauge {
  readonly slots: HttpSlot[] = [];
  readonly #connections: HttpConnection[] = [];
  readonly #requestTimeoutMs: number;
  readonly #sweep: NodeJS.Timeout;
  #open = 0;

  constructor(plan: HttpPlan, listener: ExchangeListener, lookup: LookupFunction | undefined) {
    const target = new URL(plan.target);
    const tls = target.protocol === 'https:';
    const endpoint: Endpoint = {
      host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port === '' ? (tls ? 443 : 80) : Number(target.port),
      tls,
      tlsOptions: tls ? targetTlsOptions(plan.tls) : {},
      connectTimeoutMs: plan.timeouts.connectMs,
      lookup,
    };
    const requests = plan.requests.map((spec) => prepareRequest(spec, target));
    const pipelining = plan.load.model === 'closed' ? plan.load.pipelining : 1;
    for (let index = 0; index < plan.load.connections; index += 1) {
      const connection = new HttpConnection(endpoint, listener, this);
      this.#connections.push(connection);
      for (let lane = 0; lane < pipelining; lane += 1) {
        // Spread the request list over connections so every request is in use from the start.
        this.slots.push(new HttpSlot(connection, requests, index * pipelining + lane + plan.agentId));
      }
    }
    this.#requestTimeoutMs = plan.timeouts.requestMs;
    this.#sweep = setInterval(() => this.#expire(), Math.min(1000, Math.max(20, plan.timeouts.requestMs / 10)));
    this.#sweep.unref();
  }

  opened(): void {
    this.#open += 1;
  }

  closed(): void {
    this.#open -= 1;
  }

  openConnections(): number {
    return this.#open;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const closing = new ExchangeError('SPEAR_CLOSED', 'the run ended before the response arrived');
    for (const connection of this.#connections) connection.abort(closing);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Fails exchanges older than the request timeout (their connection closes, as wrk does). */
  #expire(): void {
    const deadline = performance.now() - this.#requestTimeoutMs;
    for (const connection of this.#connections) {
      const sentAt = connection.oldestSentAt();
      if (sentAt !== undefined && sentAt < deadline) {
        connection.abort(new ExchangeError('SPEAR_REQUEST_TIMEOUT', `no complete response within ${this.#requestTimeoutMs}ms`));
      }
    }
  }
}

export const httpProtocol = {
  name: 'http',
  createPool: (plan: HttpPlan, listener: ExchangeListener, lookup?: LookupFunction): ClientPool => new HttpPool(plan, listener, lookup),
} as const satisfies Protocol;
