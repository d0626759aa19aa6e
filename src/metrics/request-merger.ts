import type { IntervalMessage, RequestCounters } from '../wire/messages.js';
import { createHistogram, type Histogram } from './histogram.js';
import type { HistogramPayload } from './histogram-payload.js';

/** Per-request counters with nothing counted. */
export function emptyRequestCounters(): RequestCounters {
  return { requests: 0, statuses: {}, errors: {} };
}

/** Adds `from` into `into`. */
export function addRequestCounters(into: RequestCounters, from: RequestCounters): void {
  into.requests += from.requests;
  for (const [status, count] of Object.entries(from.statuses)) into.statuses[status] = (into.statuses[status] ?? 0) + count;
  for (const [key, count] of Object.entries(from.errors)) into.errors[key] = (into.errors[key] ?? 0) + count;
}

/**
 * The per-request half of the coordinator's merge: each request name's
 * counters and latency histogram summed exactly over agents (by the name's
 * index: every agent's entries follow the run's names), for the run and,
 * counters only, per interval. Empty for runs without per-request
 * statistics. Not on a hot path: once per agent per interval.
 */
export class RequestMerger {
  /** Run totals by name index; as long as the longest report. */
  readonly totals: RequestCounters[] = [];
  /** Run latency by name index; undefined for a name that never got a response. */
  readonly latency: (Histogram | undefined)[] = [];
  readonly #intervals = new Map<number, RequestCounters[]>();

  /** Adds an agent's per-request entries, their latencies already parsed (parseReportPayloads, by name index). */
  add(message: IntervalMessage, latencies: readonly (HistogramPayload | undefined)[] | undefined): void {
    const entries = message.requests;
    if (entries === undefined) return;
    let interval = this.#intervals.get(message.index);
    if (interval === undefined) {
      interval = [];
      this.#intervals.set(message.index, interval);
    }
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index]!;
      while (this.totals.length <= index) {
        this.totals.push(emptyRequestCounters());
        this.latency.push(undefined);
      }
      while (interval.length <= index) interval.push(emptyRequestCounters());
      addRequestCounters(this.totals[index]!, entry);
      addRequestCounters(interval[index]!, entry);
      const latency = latencies?.[index];
      if (latency === undefined) continue;
      let histogram = this.latency[index];
      if (histogram === undefined) {
        histogram = createHistogram();
        this.latency[index] = histogram;
      }
      latency.addTo(histogram);
    }
  }

  /** Interval `index`'s per-request counters, merged over the agents that reported it; forgotten here. Undefined when none carried any. */
  takeInterval(index: number): RequestCounters[] | undefined {
    const interval = this.#intervals.get(index);
    this.#intervals.delete(index);
    return interval;
  }
}
