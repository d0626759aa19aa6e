import { breaksDownRequests } from '../scenarios/request-names.js';
import type { IntervalCounters, IntervalHistograms, RequestInterval } from '../wire/messages.js';
import { errorSampleChars, errorSampleKeys, statusSlots } from './counters.js';
import { errorKey } from './error-kind.js';
import { createHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';
import { RequestBreakdown } from './request-breakdown.js';


/**
 * An agent's metrics for the current interval. `response`, `failure` and
 * `drop` are on the hot path: they add to preallocated counters and
 * histograms and never allocate (except the first time an error key is
 * seen). `takeInterval` encodes and resets, once per interval.
 * `request` arguments are the exchange's index in the run's request names
 * (-1: none); per-request statistics are kept only when the run has
 * several names (`breaksDownRequests`), otherwise they cost one branch.
 * Single-threaded: call from the agent's event loop only.
 */
export class Recorder {
  readonly #latency: Histogram = createHistogram();
  readonly #serviceTime: Histogram = createHistogram();
  readonly #queue: Histogram = createHistogram();
  readonly #statuses = new Float64Array(statusSlots);
  readonly #errors = new Map<string, number>();
  /** The first message per error key this interval. */
  readonly #samples = new Map<string, string>();
  #requests = 0;
  #bytesRead = 0;
  #scheduled = 0;
  #dropped = 0;
  readonly #byRequest: RequestBreakdown | undefined;

  /** `requestNames`: how many request names the run has (requestNamesOf). */
  constructor(requestNames = 0) {
    this.#byRequest = breaksDownRequests(requestNames) ? new RequestBreakdown(requestNames) : undefined;
  }

  /** A response arrived: `latencyUs` from the intended send, `serviceUs` from the actual one. */
  response(status: number, bytes: number, latencyUs: number, serviceUs: number, request = -1): void {
    if (this.#byRequest !== undefined) this.#byRequest.response(request, status, latencyUs);
    this.#requests += 1;
    this.#bytesRead += bytes;
    this.#statuses[status > 0 && status < statusSlots ? status : 0]! += 1;
    recordUs(this.#latency, latencyUs);
    recordUs(this.#serviceTime, serviceUs);
  }

  /** An exchange failed without a response (connect, read, write, timeout). */
  failure(error: unknown, request = -1): void {
    const key = errorKey(error);
    if (this.#byRequest !== undefined) this.#byRequest.failure(request, key);
    this.failureKey(key, error);
  }

  /**
   * Counts a failure under request `request` only: for callers whose failure
   * reaches the totals by another path (a flow `http` step's error ends the
   * user's iteration, which records it with `failure`).
   */
  requestFailed(request: number, error: unknown): void {
    if (this.#byRequest !== undefined) this.#byRequest.failure(request, errorKey(error));
  }

  /** Counts one failure under an exact "kind:CODE" key; `error`'s message becomes the key's sample if it has none yet. */
  failureKey(key: string, error?: unknown): void {
    this.#errors.set(key, (this.#errors.get(key) ?? 0) + 1);
    if (error instanceof Error && error.message !== '' && this.#samples.size < errorSampleKeys && !this.#samples.has(key)) {
      this.#samples.set(key, error.message.slice(0, errorSampleChars));
    }
  }

  /** An exchange waited `waitUs` inside spear (a pooled connection, a handshake slot) before it left. Hot path. */
  queued(waitUs: number): void {
    recordUs(this.#queue, waitUs);
  }

  /** Open model: `count` more arrivals came due. */
  schedule(count: number): void {
    this.#scheduled += count;
  }

  /** Open model: `count` arrivals found no free connection in time. */
  drop(count: number): void {
    this.#dropped += count;
  }

  /** The interval's counters and encoded histograms; resets for the next one. */
  takeInterval(inFlight: number, connections: number): { counters: IntervalCounters; histograms: IntervalHistograms; requests?: RequestInterval[] } {
    const statuses: Record<string, number> = {};
    for (let status = 0; status < statusSlots; status += 1) {
      const count = this.#statuses[status]!;
      if (count > 0) statuses[String(status)] = count;
    }
    const counters: IntervalCounters = {
      requests: this.#requests,
      bytesRead: this.#bytesRead,
      statuses,
      errors: Object.fromEntries(this.#errors),
      ...(this.#samples.size === 0 ? {} : { errorSamples: Object.fromEntries(this.#samples) }),
      scheduled: this.#scheduled,
      dropped: this.#dropped,
      inFlight,
      connections,
    };
    const histograms: IntervalHistograms = {
      latency: encodeHistogram(this.#latency),
      serviceTime: encodeHistogram(this.#serviceTime),
      queue: encodeHistogram(this.#queue),
    };
    this.#latency.reset();
    this.#serviceTime.reset();
    this.#queue.reset();
    this.#statuses.fill(0);
    this.#errors.clear();
    this.#samples.clear();
    this.#requests = 0;
    this.#bytesRead = 0;
    this.#scheduled = 0;
    this.#dropped = 0;
    return this.#byRequest === undefined ? { counters, histograms } : { counters, histograms, requests: this.#byRequest.takeInterval() };
  }
}
