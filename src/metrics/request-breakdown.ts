import type { RequestInterval } from '../wire/messages.js';
import { statusSlots } from './counters.js';
import { createHistogram, encodeHistogram, recordUs, type Histogram } from './histogram.js';

/**
 * An agent's per-request statistics for the current interval: for each
 * request name (by its index in the run's names, src/scenarios/request-names.ts)
 * the responses, statuses, failures by "kind:CODE" and a latency histogram.
 * Only runs with several names keep one (see `breaksDownRequests`).
 *
 * `response` is on the hot path: it indexes preallocated arrays and never
 * allocates, except a name's histogram the first time it records. An index
 * outside the names (a hostile plan, a connection-level failure) is
 * ignored. Single-threaded.
 */
export class RequestBreakdown {
  readonly #requests: Float64Array;
  /** `count` rows of statusSlots counts. */
  readonly #statuses: Float64Array;
  readonly #histograms: (Histogram | undefined)[];
  readonly #errors: (Map<string, number> | undefined)[];

  constructor(count: number) {
    this.#requests = new Float64Array(count);
    this.#statuses = new Float64Array(count * statusSlots);
    this.#histograms = new Array<Histogram | undefined>(count).fill(undefined);
    this.#errors = new Array<Map<string, number> | undefined>(count).fill(undefined);
  }

  /** Request `index` got a response with `status` after `latencyUs`. Hot path. */
  response(index: number, status: number, latencyUs: number): void {
    if (index < 0 || index >= this.#requests.length) return;
    this.#requests[index]! += 1;
    this.#statuses[index * statusSlots + (status > 0 && status < statusSlots ? status : 0)]! += 1;
    let histogram = this.#histograms[index];
    if (histogram === undefined) {
      histogram = createHistogram();
      this.#histograms[index] = histogram;
    }
    recordUs(histogram, latencyUs);
  }

  /** Request `index` failed without a response, counted under `key` ("kind:CODE"). */
  failure(index: number, key: string): void {
    if (index < 0 || index >= this.#requests.length) return;
    let errors = this.#errors[index];
    if (errors === undefined) {
      errors = new Map();
      this.#errors[index] = errors;
    }
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }

  /** The interval's entries, one per name in index order (latency "" when none was recorded); resets for the next one. */
  takeInterval(): RequestInterval[] {
    const entries: RequestInterval[] = [];
    for (let index = 0; index < this.#requests.length; index += 1) {
      const statuses: Record<string, number> = {};
      const row = index * statusSlots;
      for (let status = 0; status < statusSlots; status += 1) {
        const count = this.#statuses[row + status]!;
        if (count > 0) statuses[String(status)] = count;
      }
      const histogram = this.#histograms[index];
      const recorded = histogram !== undefined && histogram.totalCount > 0;
      const errors = this.#errors[index];
      entries.push({
        requests: this.#requests[index]!,
        statuses,
        errors: errors === undefined ? {} : Object.fromEntries(errors),
        latency: recorded ? encodeHistogram(histogram) : '',
      });
      histogram?.reset();
      errors?.clear();
    }
    this.#requests.fill(0);
    this.#statuses.fill(0);
    return entries;
  }
}
