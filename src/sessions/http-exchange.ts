import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'node:tls';
import type { Dispatcher } from 'undici';
import type { TargetPolicy } from '../agents/target-policy.js';
import type { Recorder } from '../metrics/recorder.js';
import { StepClient } from '../protocols/http/step-client.js';
import type { StepOutcome } from '../protocols/http/step-exchange.js';
import { stepRequest } from '../protocols/http/step-request.js';
import type { SessionPlan } from '../scenarios/plan.js';

/** One finished flow `http` exchange, whichever client carried it (see StepOutcome). */
export type HttpOutcome = StepOutcome;

/**
 * The client a fleet's flow `http` steps share (HTTP journeys and
 * long-connection flows alike): at most `connections` per origin, the
 * plan's connect and request timeouts, the target's TLS settings, and with
 * --allow-target every connection's addresses checked as it opens (a name
 * may be re-pointed after its check). Unsolicited bytes count as errors of
 * their own in `recorder`.
 */
export function flowStepClient(plan: SessionPlan, recorder: Recorder, connections: number, tls: ConnectionOptions, targetPolicy: TargetPolicy | undefined): StepClient {
  return new StepClient({
    connections,
    tlsOptions: tls,
    connectTimeoutMs: plan.timeouts.connectMs,
    requestTimeoutMs: plan.timeouts.requestMs,
    lookup: targetPolicy?.lookup,
    connectionFailed: (error) => recorder.failure(error),
  });
}

/**
 * What carries flow `http` steps: spear's own client (every fleet), or an
 * undici Dispatcher, which tests use to hold spear's client to undici's
 * behaviour and codes (test/journey-client.test.ts).
 */
export type StepTransport = StepClient | Dispatcher;

/** One rendered flow `http` step. Header names are lowercase (the scenario's validation). */
export interface RenderedStep {
  readonly method: string;
  readonly url: URL;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string | undefined;
}

/**
 * Sends one rendered step over `transport` and reads the whole response
 * (its text when `keepText`); `timeoutMs` bounds the response. Rejects with
 * a coded error: spear's client's own, or undici's (map it with
 * `asSpearError`).
 */
export function sendStep(transport: StepTransport, step: RenderedStep, keepText: boolean, timeoutMs: number): Promise<HttpOutcome> {
  const { method, url, headers, body } = step;
  if (transport instanceof StepClient) {
    try {
      return transport.exchange(url, stepRequest(method, url, headers, body), keepText);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return exchange(transport, {
    origin: url.origin, path: `${url.pathname}${url.search}`, method: method as Dispatcher.HttpMethod, headers: Object.fromEntries(headers), body,
    headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
  }, keepText);
}

/**
 * Sends one request through `dispatcher` (an undici Agent or Pool) and
 * reads the whole response. The latency clock starts in `onRequestStart`,
 * which undici calls synchronously just before it writes the request's
 * headers to a socket (client-h1 `writeH1`), so time spent waiting for a
 * pooled connection is reported apart (`queuedUs`), never as the server's.
 * Rejects with undici's coded error. Allocates one handler per exchange,
 * less than `undici.request` (no body stream, no response object).
 */
export function exchange(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, keepText: boolean): Promise<HttpOutcome> {
  return new Promise((resolve, reject) => {
    const handler = new ExchangeHandler(keepText, resolve, reject);
    dispatcher.dispatch(options, handler);
    handler.dispatched = true;
  });
}

class ExchangeHandler implements Dispatcher.DispatchHandler {
  /** False while `dispatch` runs: a request started then never waited. */
  dispatched = false;
  readonly #createdAt = performance.now();
  #sentAt = 0;
  #queued = false;
  #status = 0;
  #bytes = 0;
  readonly #chunks: Buffer[] | undefined;
  readonly #resolve: (outcome: HttpOutcome) => void;
  readonly #reject: (error: unknown) => void;

  constructor(keepText: boolean, resolve: (outcome: HttpOutcome) => void, reject: (error: unknown) => void) {
    this.#chunks = keepText ? [] : undefined;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** The request is about to be written to a connection. A retried request (a pipeline failure) starts again. */
  onRequestStart(): void {
    this.#sentAt = performance.now();
    this.#queued = this.dispatched;
    this.#status = 0;
    this.#bytes = 0;
    this.#chunks?.splice(0);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    // 1xx informational responses precede the real one.
    if (statusCode >= 200) this.#status = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bytes += chunk.length;
    this.#chunks?.push(chunk);
  }

  onResponseEnd(): void {
    const now = performance.now();
    const sentAt = this.#sentAt === 0 ? this.#createdAt : this.#sentAt;
    this.#resolve({
      status: this.#status,
      bytes: this.#bytes,
      text: this.#chunks === undefined ? undefined : Buffer.concat(this.#chunks).toString('utf8'),
      latencyUs: Math.round((now - sentAt) * 1000),
      endedAt: now,
      queuedUs: this.#queued ? Math.round((sentAt - this.#createdAt) * 1000) : -1,
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#reject(error);
  }
}
