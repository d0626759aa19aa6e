import type { OpenLoad } from './scenario.js';

interface Segment {
  readonly startMs: number;
  readonly durationMs: number;
  readonly startRatePerS: number;
  readonly endRatePerS: number;
  /** Cumulative arrivals (fractional) at the segment's start. */
  readonly arrivalsBefore: number;
  readonly arrivalsAfter: number;
}

/**
 * The intended send times of an open-model run. The rate is piecewise
 * linear (each stage ramps from the previous rate), so cumulative arrivals
 * N(t) are piecewise quadratic; arrival k is intended at the t where
 * N(t) = k + 0.5, which spreads exactly round(N(end)) arrivals over the run
 * with none at its edges. Times are milliseconds from the start.
 *
 * `timeOfMs` is called once per arrival on the hot path: no allocation, one
 * square root, and a cursor that makes monotonically increasing k O(1).
 */
export class ArrivalSchedule {
  readonly #segments: Segment[] = [];
  readonly total: number;
  readonly durationMs: number;
  #cursor = 0;

  constructor(load: Pick<OpenLoad, 'startRatePerS' | 'stages'>) {
    let startMs = 0;
    let arrivals = 0;
    let rate = load.startRatePerS;
    for (const stage of load.stages) {
      const added = ((rate + stage.ratePerS) / 2) * (stage.durationMs / 1000);
      this.#segments.push({
        startMs,
        durationMs: stage.durationMs,
        startRatePerS: rate,
        endRatePerS: stage.ratePerS,
        arrivalsBefore: arrivals,
        arrivalsAfter: arrivals + added,
      });
      startMs += stage.durationMs;
      arrivals += added;
      rate = stage.ratePerS;
    }
    this.durationMs = startMs;
    this.total = Math.max(0, Math.ceil(arrivals - 0.5 - 1e-9));
  }

  /** Intended time of arrival `k` (0-based), or undefined past the last one. */
  timeOfMs(k: number): number | undefined {
    if (k >= this.total) return undefined;
    const target = k + 0.5;
    let index = this.#cursor;
    let segment = this.#segments[index];
    if (segment === undefined || segment.arrivalsBefore > target) {
      index = 0;
      segment = this.#segments[0];
    }
    while (segment !== undefined && segment.arrivalsAfter < target) {
      index += 1;
      segment = this.#segments[index];
    }
    if (segment === undefined) return undefined;
    this.#cursor = index;
    return segment.startMs + solveSeconds(segment, target - segment.arrivalsBefore) * 1000;
  }

  /** The first arrival intended at or after `ms` (binary search; off the hot path). */
  firstAtOrAfter(ms: number): number {
    let low = 0;
    let high = this.total;
    while (low < high) {
      // Not `>>> 1`: that wraps past 2^31 arrivals and the search never ends. Exact up to 2^53.
      const middle = Math.floor((low + high) / 2);
      const time = this.timeOfMs(middle);
      if (time !== undefined && time < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Seconds τ into the segment where r0·τ + (r1−r0)·τ²/(2d) = n. */
function solveSeconds(segment: Segment, n: number): number {
  const d = segment.durationMs / 1000;
  const a = (segment.endRatePerS - segment.startRatePerS) / (2 * d);
  const b = segment.startRatePerS;
  // Stable form of the quadratic root: no cancellation when a → 0.
  const root = Math.sqrt(Math.max(0, b * b + 4 * a * n));
  const denominator = b + root;
  return denominator === 0 ? 0 : (2 * n) / denominator;
}
